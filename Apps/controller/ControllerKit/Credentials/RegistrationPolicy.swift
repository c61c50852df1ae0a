import ClusterCore

/// Who may register which node id: a pure decision, so the rules that keep the cluster join token from taking
/// over a live node are read (and tested) in one place.
///
/// - A node's own token registers that node again (an agent restart): the token is kept.
/// - The join token registers a node id nobody holds: a new node (waiting for approval when approval is on),
///   or one an admin let join again (`corral nodes approve --rejoin`, or revoke and resume) whose token is gone.
/// - The join token alone never registers a node whose token is live: that would hand its identity, and its
///   running jobs, to whoever holds the shared secret. A client certificate naming the node proves it is the
///   node (the CA signed it for that name), so with one the node gets a new token.
enum RegistrationPolicy {
    enum Decision: Hashable, Sendable {
        /// The caller is the node itself: it keeps the token it presented.
        case keepToken
        /// A new token for the node; `awaitingApproval` for a node id that joins for the first time while
        /// approval is required.
        case issueToken(awaitingApproval: Bool)
        case refused(String)
    }

    struct Facts: Hashable, Sendable {
        /// The node id the request names.
        var node: String
        var callerKind: CredentialKind
        var callerSubject: String
        /// The common name of the verified client certificate, if one was presented.
        var certificateSubject: String?
        /// The controller has a record of this node id.
        var known: Bool
        /// Some token of this node is live (not revoked).
        var hasLiveToken: Bool
        /// `--approve-nodes`.
        var approvalRequired: Bool
    }

    static func decide(_ facts: Facts) -> Decision {
        switch facts.callerKind {
        case .node:
            guard facts.callerSubject == facts.node else {
                return .refused("this node token belongs to node '\(facts.callerSubject)', not '\(facts.node)'")
            }
            return .keepToken
        case .cluster:
            if !facts.known { return .issueToken(awaitingApproval: facts.approvalRequired) }
            if !facts.hasLiveToken || facts.certificateSubject == facts.node {
                return .issueToken(awaitingApproval: false)
            }
            return .refused(
                "node '\(facts.node)' is registered and holds its own token: its agent registers again with that "
                    + "token (STATE_DIR/node.token), and the join token cannot take a registered node over. If this "
                    + "is that node and it lost its state dir, an admin runs `corral nodes approve \(facts.node) "
                    + "--rejoin`"
            )
        case .user, .admin:
            return .refused("registering a node needs the cluster join token (DIR/cluster.token)")
        }
    }
}
