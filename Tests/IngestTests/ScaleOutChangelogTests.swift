@testable import Ingest
import Foundation
import Stream
import XCTest

/// Which commit of a changelog partition a new owner restores, against librdkafka's mock
/// cluster in this process: the last one made by the owner of its time. A zombie (an old
/// owner still running after the group gave its partition away) that commits after the new
/// owner's claim commits nothing — the mock cluster does not fence producers by transactional
/// id, so this rule is what keeps the zombie out there (`Specs/Handover.tla`, `Fence`).
final class ScaleOutChangelogTests: XCTestCase {
    var cluster: MockKafkaCluster!
    var producer: KafkaProducer!

    override func setUpWithError() throws {
        cluster = try MockKafkaCluster(brokers: 1)
        try cluster.createTopic("changelog", partitions: 1)
        producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
    }

    var reader: ChangelogReader {
        ChangelogReader(properties: KafkaProperties(brokers: cluster.bootstrapServers), topic: "changelog", partition: 0)
    }

    func claim(_ epoch: UInt64) throws {
        var w = StateWriter()
        w.write(epoch)
        try producer.produce(topic: "changelog", partition: 0, key: Array("claim".utf8), value: w.bytes)
        try producer.flush()
    }

    /// A commit of `state` by `epoch`, at repartition position `position`; `withChunk: false`
    /// leaves its chunk out.
    func commit(_ transaction: String, epoch: UInt64, state: String, position: Int64, withChunk: Bool = true) throws {
        let bundle = Array(state.utf8)
        let header = [("vigil.txn", Array(transaction.utf8))]
        if withChunk { try producer.produce(topic: "changelog", partition: 0, key: Array("chunk/0".utf8), value: bundle, headers: header) }
        var p = PartitionProgress(transaction: transaction, position: position, applied: [:], watermarks: [:], chunks: 1,
                                  bundleChecksum: CRC32C.checksum(bundle))
        p.epoch = epoch
        try producer.produce(topic: "changelog", partition: 0, key: Array("commit".utf8), value: p.encode(), headers: header)
        try producer.flush()
    }

    func testAZombiesCommitAfterTheNewOwnersClaimIsVoid() throws {
        XCTAssertNil(try reader.lastCommit(from: KafkaOffset.beginning), "an empty changelog has no commit")
        try claim(1)
        try commit("a", epoch: 1, state: "state after a", position: 10)
        try claim(2)  // a new owner; the old one lives on
        try commit("b", epoch: 1, state: "the zombie's state", position: 15)
        let restored = try XCTUnwrap(reader.lastCommit(from: KafkaOffset.beginning))
        XCTAssertEqual(restored.progress.transaction, "a")
        XCTAssertEqual(String(decoding: restored.bundle, as: UTF8.self), "state after a")
        XCTAssertEqual(restored.progress.position, 10)

        try commit("c", epoch: 2, state: "the new owner's state", position: 12)
        let later = try XCTUnwrap(reader.lastCommit(from: KafkaOffset.beginning))
        XCTAssertEqual(later.progress.transaction, "c")
        XCTAssertEqual(String(decoding: later.bundle, as: UTF8.self), "the new owner's state")
    }

    func testATailReadStartsWithTheEpochOfTheLocalCheckpoint() throws {
        try claim(7)
        try commit("a", epoch: 7, state: "s", position: 3)
        let tailStart = try XCTUnwrap(reader.lastCommit(from: KafkaOffset.beginning)).offset - 1  // the chunk's offset
        XCTAssertEqual(try reader.lastCommit(from: tailStart, epoch: 7)?.progress.transaction, "a")
        XCTAssertNil(try reader.lastCommit(from: tailStart, epoch: 8), "a commit of another owner's epoch is not this one's")
        try claim(9)
        XCTAssertEqual(try reader.lastCommit(from: tailStart, epoch: 7)?.progress.transaction, "a", "a later claim does not void earlier commits")
    }

    /// A new owner records the end its restore read saw as the start of its next commit's tail
    /// read (no round trip at its first commit): that start must be after its own claim and
    /// must find its commits made later, and nothing before.
    func testTheEndSeenAfterAClaimStartsATailReadThatFindsTheOwnersLaterCommit() throws {
        XCTAssertEqual(try reader.read(from: KafkaOffset.beginning).end, 0, "an empty changelog ends at 0")
        try claim(1)
        try commit("a", epoch: 1, state: "old owner's", position: 5)
        try claim(2)  // the new owner claims, then reads
        let taken = try reader.read(from: KafkaOffset.beginning)
        XCTAssertEqual(taken.commit?.progress.transaction, "a")
        XCTAssertEqual(taken.end, 4, "claim, chunk, marker, claim")
        XCTAssertNil(try reader.read(from: taken.end, epoch: 2).commit, "nothing of the new owner's yet")
        XCTAssertEqual(try reader.read(from: taken.end, epoch: 2).end, taken.end)
        try commit("b", epoch: 2, state: "new owner's", position: 9)
        let tail = try reader.read(from: taken.end, epoch: 2)
        XCTAssertEqual(tail.commit?.progress.transaction, "b")
        XCTAssertEqual(tail.commit.map { String(decoding: $0.bundle, as: UTF8.self) }, "new owner's")
        XCTAssertEqual(tail.end, 6)
    }

    func testACommitWithoutItsStateIsAnErrorNotAnEmptyRestore() throws {
        try claim(1)
        try commit("a", epoch: 1, state: "s", position: 3, withChunk: false)
        XCTAssertThrowsError(try reader.lastCommit(from: KafkaOffset.beginning)) { error in
            XCTAssertTrue("\(error)".contains("lacks chunk 0"), "\(error)")
        }
    }
}
