import ClusterCore
import Testing

@testable import ControllerKit

/// Who may register which node id (issue 18, finding 1): the join token never takes over a node whose token
/// is live; the node's own token, or its client certificate, does.
@Suite struct RegistrationPolicyTests {
    typealias Facts = RegistrationPolicy.Facts

    func facts(
        _ kind: CredentialKind,
        subject: String = "cluster",
        certificate: String? = nil,
        known: Bool = true,
        live: Bool = true,
        approval: Bool = false
    ) -> Facts {
        Facts(
            node: "gpu-1",
            callerKind: kind,
            callerSubject: subject,
            certificateSubject: certificate,
            known: known,
            hasLiveToken: live,
            approvalRequired: approval
        )
    }

    @Test func theTable() {
        let cases: [(Facts, RegistrationPolicy.Decision?)] = [
            // The node itself, after an agent restart: keeps its token.
            (facts(.node, subject: "gpu-1"), .keepToken),
            // Another node's token: refused.
            (facts(.node, subject: "gpu-2"), nil),
            // The join token: a new node id, with or without approval.
            (facts(.cluster, known: false, live: false), .issueToken(awaitingApproval: false)),
            (facts(.cluster, known: false, live: false, approval: true), .issueToken(awaitingApproval: true)),
            // The join token for a registered node with a live token: refused, approval or not.
            (facts(.cluster), nil),
            (facts(.cluster, approval: true), nil),
            // ... a certificate for another node does not help; one for this node does.
            (facts(.cluster, certificate: "gpu-2"), nil),
            (facts(.cluster, certificate: "gpu-1"), .issueToken(awaitingApproval: false)),
            // A node an admin let join again (its token revoked): the join token, approval already given.
            (facts(.cluster, live: false, approval: true), .issueToken(awaitingApproval: false)),
            // People's tokens never register a node.
            (facts(.user, subject: "gpu-1", known: false, live: false), nil),
            (facts(.admin, subject: "admin"), nil),
        ]
        for (given, expected) in cases {
            let decision = RegistrationPolicy.decide(given)
            if let expected {
                #expect(decision == expected, "\(given)")
            } else if case .refused(let message) = decision {
                #expect(!message.isEmpty)
            } else {
                Issue.record("\(given) should be refused, got \(decision)")
            }
        }
    }

    @Test func theRefusalSaysHowToRecover() {
        guard case .refused(let message) = RegistrationPolicy.decide(facts(.cluster)) else {
            Issue.record("not refused")
            return
        }
        #expect(message.contains("node.token") && message.contains("corral nodes approve gpu-1 --rejoin"))
    }
}
