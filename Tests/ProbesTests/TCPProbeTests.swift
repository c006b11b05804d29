import Foundation
import Probes
import Stream
import XCTest

/// The TCP probe for real (CI runs as root on a kernel that allows BPF): connections the test
/// opens to its own loopback listener are reported exactly, with plausible handshake times;
/// a refused connect and a connection reset by the peer are seen too.
final class TCPProbeTests: XCTestCase {
    func testLoopbackConnectionsRefusalsAndResetsAreReportedExactly() throws {
        let env = StreamEnvironment(name: "tcp-probe", parallelism: 1)
        let events = env.tcpEvents().collect()
        let job = try env.start()
        defer { job.cancel(); _ = try? job.wait() }

        let listener = try Loopback.listen()
        defer { close(listener.fd) }
        // Attached once anything at all is seen: connect until then (these do not count).
        let deadline = Date().addingTimeInterval(30)
        while !events.values.contains(where: { $0.remotePort == listener.port }), Date() < deadline {
            close(try Loopback.connect(to: listener.port))
            close(accept(listener.fd, nil, nil))
            Thread.sleep(forTimeInterval: 0.05)
        }
        let warmup = events.values.filter { $0.kind == .connected && $0.remotePort == listener.port }.count
        XCTAssertGreaterThan(warmup, 0, "the probe saw nothing")

        // N connections from this process.
        let n = 25
        var clientPorts: Set<UInt16> = []
        for _ in 0..<n {
            let fd = try Loopback.connect(to: listener.port)
            clientPorts.insert(Loopback.localPort(fd))
            close(accept(listener.fd, nil, nil))
            close(fd)
        }
        // A refused connect: a port nobody listens on.
        let closedPort = try Loopback.unusedPort()
        XCTAssertThrowsError(try Loopback.connect(to: closedPort))
        // A reset: the server closes with SO_LINGER 0.
        let victim = try Loopback.connect(to: listener.port)
        let victimPort = Loopback.localPort(victim)
        let server = accept(listener.fd, nil, nil)
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(server, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(server)
        var byte: UInt8 = 0
        _ = recv(victim, &byte, 1, 0)  // sees the reset
        close(victim)

        func wait(_ what: String, _ condition: ([TCPEvent]) -> Bool) {
            while !condition(events.values), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            XCTAssertTrue(condition(events.values), what)
        }
        wait("all \(n) connections") { e in clientPorts.isSubset(of: e.filter { $0.kind == .connected }.map(\.localPort)) }
        wait("the refused connect") { e in e.contains { $0.kind == .connectFailed && $0.remotePort == closedPort } }
        wait("the reset") { e in e.contains { $0.kind == .resetReceived && $0.localPort == victimPort } }

        let mine = events.values.filter { $0.kind == .connected && clientPorts.contains($0.localPort) }
        XCTAssertEqual(mine.count, n, "exactly the \(n) connections, each once")
        for c in mine {
            XCTAssertEqual(c.pid, getpid())
            XCTAssertEqual(c.remoteAddress, "127.0.0.1")
            XCTAssertEqual(c.remotePort, listener.port)
            let latency = Double(c.latencyNanos ?? 0) / 1e9
            XCTAssertGreaterThan(latency, 0)
            XCTAssertLessThan(latency, 1, "a loopback handshake")
        }
        let refused = try XCTUnwrap(events.values.first { $0.kind == .connectFailed && $0.remotePort == closedPort })
        XCTAssertEqual(refused.pid, getpid())
        let reset = try XCTUnwrap(events.values.first { $0.kind == .resetReceived && $0.localPort == victimPort })
        XCTAssertEqual(reset.pid, getpid(), "attributed to the process that connected")
        XCTAssertEqual(reset.remotePort, listener.port)
    }
}

/// Plain blocking sockets on 127.0.0.1.
enum Loopback {
    struct Failure: Error { let what: String }

    static func address(port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        return a
    }

    static func listen() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = address(port: 0)
        let bound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else { throw Failure(what: "listen: \(errno)") }
        return (fd, localPort(fd))
    }

    static func connect(to port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var a = address(port: port)
        let r = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { close(fd); throw Failure(what: "connect: \(errno)") }
        return fd
    }

    static func localPort(_ fd: Int32) -> UInt16 {
        var a = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: a.sin_port)
    }

    /// A port that was free a moment ago (bound, then released).
    static func unusedPort() throws -> UInt16 {
        let l = try listen()
        close(l.fd)
        return l.port
    }
}
