/// The metric detectors by name, with their default configurations: what `vigil bench nab
/// --detector NAME` and the NAB benchmark choose from. The distance-based ones are also listed
/// calibrated (`-likelihood`), which is how the ensemble uses them; `shape` speaks in sparse
/// events and is used as it is.
public enum MetricDetectorKind: String, CaseIterable, Sendable {
    case ewma
    case mad
    case seasonal
    case spot
    case novelty
    case shape
    case ewmaCalibrated = "ewma-likelihood"
    case madCalibrated = "mad-likelihood"
    case seasonalCalibrated = "seasonal-likelihood"
    case spotCalibrated = "spot-likelihood"
    case noveltyCalibrated = "novelty-likelihood"
    case ensemble

    /// Runs a fresh detector of this kind over a NAB series; one score per row. With
    /// `rangeHint`, detectors that cut values into levels are told the file's minimum and
    /// maximum before the first point, as NAB's own framework tells every detector
    /// (`inputMin`/`inputMax`; HTM, CAD OSE and ARTime size their encoders with them). That is
    /// look-ahead a live stream does not have unless its range is known (a percentage).
    public func nabScores(of series: NABSeries, rangeHint: Bool = false) -> [Double] {
        let range = rangeHint ? series.valueRange : nil
        var novelty = NoveltyDetector.Config()
        novelty.valueRange = range
        var shape = ShapeNoveltyDetector.Config()
        shape.valueRange = range
        var ensemble = EnsembleDetector.Config()
        ensemble.valueRange = range
        return switch self {
        case .ewma: NABRunner.scores(of: series) { EWMADetector() }
        case .mad: NABRunner.scores(of: series) { MedianMADDetector() }
        case .seasonal: NABRunner.scores(of: series) { SeasonalDetector() }
        case .spot: NABRunner.scores(of: series) { SPOTDetector() }
        case .novelty: NABRunner.scores(of: series) { NoveltyDetector(config: novelty) }
        case .shape: NABRunner.scores(of: series) { ShapeNoveltyDetector(config: shape) }
        case .ewmaCalibrated: NABRunner.scores(of: series) { LikelihoodCalibrated(EWMADetector()) }
        case .madCalibrated: NABRunner.scores(of: series) { LikelihoodCalibrated(MedianMADDetector()) }
        case .seasonalCalibrated: NABRunner.scores(of: series) { LikelihoodCalibrated(SeasonalDetector()) }
        case .spotCalibrated: NABRunner.scores(of: series) { LikelihoodCalibrated(SPOTDetector()) }
        case .noveltyCalibrated: NABRunner.scores(of: series) { LikelihoodCalibrated(NoveltyDetector(config: novelty)) }
        case .ensemble: NABRunner.scores(of: series) { EnsembleDetector(config: ensemble) }
        }
    }

    /// Whether a range hint changes this detector (it cuts values into levels).
    public var usesValueRange: Bool {
        switch self {
        case .novelty, .shape, .noveltyCalibrated, .ensemble: true
        default: false
        }
    }
}


