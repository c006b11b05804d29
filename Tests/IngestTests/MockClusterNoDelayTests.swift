@testable import Ingest
import Foundation
import Stream
import XCTest

/// The embedded broker answers without Nagle's delay, as real brokers do: without it, a
/// transactional producer's flush waited about 40 ms for the client's delayed ACK, which held
/// up every commit of a scaled-out job (and made the scaleout benchmark measure it).
final class MockClusterNoDelayTests: XCTestCase {
    func testEveryBrokerListensAndAcceptsWithNoDelay() throws {
        // Other sockets first, as in a long test run: /proc/net/tcp then runs to many pages,
        // and a reader that stops at the first (as Foundation's String(contentsOfFile:) did in
        // CI) misses the brokers' sockets.
        let others = (0..<200).compactMap { _ in listeningSocket() }
        defer { others.forEach { close($0) } }
        XCTAssertEqual(others.count, 200)
        let cluster = try MockKafkaCluster(brokers: 3)
        XCTAssertEqual(cluster.noDelayListeners, 3)
        try cluster.createTopic("t", partitions: 3)
        let producer = try KafkaProducer(properties: KafkaProperties(brokers: cluster.bootstrapServers))
        try producer.fetchMetadata(topics: ["t"])  // connections accepted by now
        let accepted = ownTCPSockets(localPorts: cluster.listenerPorts, state: .established)
        XCTAssertFalse(accepted.isEmpty, "no accepted connection found")
        for fd in accepted {
            var value: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            XCTAssertEqual(getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &size), 0)
            XCTAssertEqual(value, 1, "an accepted connection (fd \(fd)) still delays small writes")
        }
    }

    /// A TCP socket listening on a free loopback port.
    func listeningSocket() -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { close(fd); return nil }
        return fd
    }
}
