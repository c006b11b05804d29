import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends a webhook: POST with JSON, `Idempotency-Key`, the policy's headers (references to
/// environment variables resolved now), a timeout per attempt, and retries with doubling
/// backoff on what may pass (no answer, 5xx, 429). Other 4xx answers are final: the receiver
/// has said the request is wrong, and sending it again will not change its mind.
struct WebhookSender: Sendable {
    struct Outcome: Sendable {
        var succeeded: Bool
        var attempts: Int
        var detail: String
    }

    let session: URLSession
    let sleep: @Sendable (Double) -> Void

    init(sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) {
        let c = URLSessionConfiguration.ephemeral
        c.httpShouldSetCookies = false
        c.urlCache = nil
        session = URLSession(configuration: c)
        self.sleep = sleep
    }

    func send(_ w: PlannedAction.Webhook, idempotencyKey: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Outcome {
        guard let url = URL(string: w.url) else { return Outcome(succeeded: false, attempts: 0, detail: "not a URL: \(w.url)") }
        var request = URLRequest(url: url, timeoutInterval: Double(w.timeoutMs) / 1000)
        request.httpMethod = "POST"
        request.httpBody = Data(w.body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(idempotencyKey, forHTTPHeaderField: "Idempotency-Key")
        // A new connection per request: FoundationNetworking's connection reuse has been seen
        // to hang a request forever (the completion never called, a thread spinning).
        request.setValue("close", forHTTPHeaderField: "Connection")
        do {
            for (name, value) in w.headers { request.setValue(try SecretReference.resolve(value, environment: environment), forHTTPHeaderField: name) }
        } catch {
            return Outcome(succeeded: false, attempts: 0, detail: "not sent: \(error)")
        }
        var backoff = Double(w.backoffMs) / 1000
        var last = ""
        for attempt in 1...(w.retries + 1) {
            let (status, error) = post(request, timeout: Double(w.timeoutMs) / 1000)
            if let status {
                last = "HTTP \(status)"
                if (200..<300).contains(status) { return Outcome(succeeded: true, attempts: attempt, detail: last) }
                if status != 429 && status < 500 { return Outcome(succeeded: false, attempts: attempt, detail: last + " (not retried)") }
            } else {
                last = error ?? "no response"
            }
            if attempt <= w.retries { sleep(backoff); backoff = min(backoff * 2, 30) }
        }
        return Outcome(succeeded: false, attempts: w.retries + 1, detail: "\(last) after \(w.retries + 1) attempts")
    }

    private final class Reply: @unchecked Sendable {
        // @unchecked: written by the session's callback before `done` is signalled, read after.
        var status: Int?
        var error: String?
        let done = DispatchSemaphore(value: 0)
    }

    /// One attempt. The session's own timeout should end it; if the completion is still not
    /// called a while after that, the attempt is abandoned as failed rather than waited for
    /// forever (a hung request would stop every action behind it).
    private func post(_ request: URLRequest, timeout: Double) -> (Int?, String?) {
        let reply = Reply()
        let task = session.dataTask(with: request) { _, response, error in
            reply.status = (response as? HTTPURLResponse)?.statusCode
            reply.error = error.map { ($0 as NSError).localizedDescription }
            reply.done.signal()
        }
        task.resume()
        if reply.done.wait(timeout: .now() + timeout + 2) == .timedOut {
            task.cancel()
            return (nil, "no answer within \(timeout) s (abandoned)")
        }
        return (reply.status, reply.error)
    }
}
