@testable import Ingest
import Foundation
import XCTest

/// The embedded broker answers without Nagle's delay, as real brokers do: without it, a
/// transactional producer's flush waited about 40 ms for the client's delayed ACK, which held
/// up every commit of a scaled-out job (and made the scaleout benchmark measure it).
final class MockClusterNoDelayTests: XCTestCase {
    func testEveryBrokerListensAndAcceptsWithNoDelay() throws {
        let cluster = try MockKafkaCluster(brokers: 3)
        XCTAssertEqual(cluster.noDelayListeners, 3)
        try cluster.createTopic("t", partitions: 3)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        try producer.fetchMetadata(topics: ["t"])  // connections accepted by now
        let ports = Set(cluster.bootstrapServers.split(separator: ",").compactMap { $0.split(separator: ":").last.flatMap { Int($0) } })
        let accepted = acceptedSockets(localPorts: ports)
        XCTAssertFalse(accepted.isEmpty, "no accepted connection found")
        for fd in accepted {
            var value: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            XCTAssertEqual(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &size), 0)
            XCTAssertEqual(value, 1, "an accepted connection (fd \(fd)) still delays small writes")
        }
    }

    /// This process's descriptors of established connections whose local port is one of these.
    func acceptedSockets(localPorts: Set<Int>) -> [Int32] {
        var inodes = Set<Substring>()
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ")
                guard f.count > 9, f[3] == "01", let port = f[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }),
                      localPorts.contains(port) else { continue }
                inodes.insert(f[9])
            }
        }
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { name in
            guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/" + name),
                  inodes.contains(link.dropFirst("socket:[".count).dropLast()) else { return nil }
            return Int32(name)
        }
    }
}
