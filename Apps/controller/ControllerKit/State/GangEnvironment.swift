import ClusterCore

/// The variables each rank of a gang, and each task of an array, gets: what torchrun, DeepSpeed, Horovod and
/// MPI launchers read, and Corral's own names for the same facts.
enum GangEnvironment {
    static func variables(_ attempt: Attempt, rank: Int, addresses: [String]) -> [String: String] {
        let count = attempt.ranks.count
        return [
            "MASTER_ADDR": addresses.first ?? "",
            "MASTER_PORT": attempt.masterPort.map(String.init) ?? "",
            "WORLD_SIZE": String(count),
            "RANK": String(rank),
            "NODE_RANK": String(rank),
            "NNODES": String(count),
            "GPUS_PER_NODE": String(attempt.resources.gpus),
            "CORRAL_NODELIST": addresses.joined(separator: ","),
            "CORRAL_RANK": String(rank),
            "CORRAL_NUM_NODES": String(count),
        ]
    }

    static func variables(_ task: ArrayTask) -> [String: String] {
        [
            "CORRAL_ARRAY_JOB_ID": task.array.rawValue,
            "CORRAL_ARRAY_TASK_ID": String(task.index),
            "CORRAL_ARRAY_TASK_COUNT": String(task.count),
        ]
    }
}
