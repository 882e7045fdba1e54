import CleanProcesses
import Foundation

/// A one-node Slurm cluster on this machine, for the tests that submit sweeps: munged, slurmctld and
/// slurmd (Debian's munge and slurm-wlm, which tools/setup installs) started as root from a temporary
/// folder with a key, a configuration and ports of their own, without cgroups (processes tracked
/// through /proc, no task binding), so nothing outside the folder is touched. `stop` ends the daemons.
final class LocalSlurm {
    /// Why the cluster could not be started; the tests that need it are skipped with it.
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// A command of Slurm's that failed on the running cluster.
    struct CommandFailed: Error, CustomStringConvertible {
        let description: String
    }

    let folder: String
    /// The environment for Slurm's commands (sbatch, squeue, scontrol): this process's, with SLURM_CONF.
    let environment: [String: String]
    private var daemons: [(name: String, pidFile: String)] = []

    static func start() throws -> LocalSlurm {
        for program in ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel"] where executable(program) == nil {
            throw Unavailable(description: "\(program) is not installed (tools/setup installs Debian's slurm-wlm and munge)")
        }
        guard getuid() == 0 else { throw Unavailable(description: "slurmd runs jobs as their users, so it must run as root") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slurm-\(UUID().uuidString)").path
        let slurm = try LocalSlurm(folder: folder)
        do {
            try slurm.startDaemons()
        } catch {
            slurm.stop()
            throw error
        }
        return slurm
    }

    private init(folder: String) throws {
        self.folder = folder
        environment = ProcessInfo.processInfo.environment.merging(["SLURM_CONF": folder + "/slurm.conf"]) { $1 }
        for name in ["munge", "state", "spool", "log"] {
            try FileManager.default.createDirectory(atPath: folder + "/" + name, withIntermediateDirectories: true)
        }
        // munged wants its key readable by its user alone and its socket's folder open to everyone.
        try FileManager.default.setAttributes([.posixPermissions: 0o711], ofItemAtPath: folder + "/munge")
        try Data((0..<1024).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: folder + "/munge/munge.key"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: folder + "/munge/munge.key")
    }

    private func startDaemons() throws {
        let munge = folder + "/munge"
        try launch("munged", ["--socket=\(munge)/munge.sock", "--key-file=\(munge)/munge.key", "--pid-file=\(munge)/munged.pid",
                              "--log-file=\(munge)/munged.log", "--seed-file=\(munge)/munged.seed"], pidFile: munge + "/munged.pid")
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: ".").first.map(String.init) ?? "localhost"
        let port = Int.random(in: 20_000..<60_000)
        // cred_expire=5: a requeued job waits this long (120 s by default) before it may start again.
        let configuration = """
            ClusterName=sweeptest
            SlurmctldHost=\(host)(127.0.0.1)
            SlurmctldPort=\(port)
            SlurmdPort=\(port + 1)
            SlurmUser=root
            SlurmdUser=root
            AuthType=auth/munge
            CredType=cred/munge
            AuthInfo=socket=\(munge)/munge.sock,cred_expire=5
            StateSaveLocation=\(folder)/state
            SlurmdSpoolDir=\(folder)/spool
            SlurmctldPidFile=\(folder)/slurmctld.pid
            SlurmdPidFile=\(folder)/slurmd.pid
            SlurmctldLogFile=\(folder)/log/slurmctld.log
            SlurmdLogFile=\(folder)/log/slurmd.log
            ProctrackType=proctrack/linuxproc
            TaskPlugin=task/none
            JobAcctGatherType=jobacct_gather/none
            AccountingStorageType=accounting_storage/none
            JobCompType=jobcomp/none
            SelectType=select/cons_tres
            SelectTypeParameters=CR_CPU
            SchedulerType=sched/builtin
            SchedulerParameters=sched_interval=1
            SlurmdParameters=config_overrides
            MpiDefault=none
            SwitchType=switch/none
            ReturnToService=2
            KillWait=5
            MinJobAge=600
            NodeName=\(host) NodeAddr=127.0.0.1 CPUs=2 RealMemory=1024 State=UNKNOWN
            PartitionName=debug Nodes=\(host) Default=YES MaxTime=INFINITE State=UP

            """
        try configuration.write(toFile: folder + "/slurm.conf", atomically: true, encoding: .utf8)
        try launch("slurmctld", ["-f", folder + "/slurm.conf"], pidFile: folder + "/slurmctld.pid")
        try launch("slurmd", ["-f", folder + "/slurm.conf", "-N", host], pidFile: folder + "/slurmd.pid")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? command("sinfo", ["-h", "-o", "%T"]))?.contains("idle") == true { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw Unavailable(description: "the node did not come up within 30 s; \(folder)/log: \(logs())")
    }

    /// Starts a daemon (it detaches itself; its output goes to log/) and remembers its pid file for `stop`.
    private func launch(_ program: String, _ arguments: [String], pidFile: String) throws {
        daemons.append((program, pidFile))
        let output = folder + "/log/\(program).out"
        let status = CleanProcess.waitForExit(try CleanProcess.start(Self.executable(program)!, arguments, environment: environment,
                                                                     output: output))
        guard status == 0 else {
            let said = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw Unavailable(description: "\(program) did not start (exit \(status)): \(said) \(logs())")
        }
    }

    /// Runs one of Slurm's commands against this cluster; throws with its output unless it succeeds.
    @discardableResult
    func command(_ program: String, _ arguments: [String]) throws -> String {
        let outcome = try CleanProcess.run(Self.executable(program) ?? program, arguments, environment: environment)
        guard outcome.status == 0 else {
            throw CommandFailed(description: "\(program) \(arguments.joined(separator: " ")) failed (exit \(outcome.status)): \(outcome.output)")
        }
        return outcome.output
    }

    /// Waits until no job is queued or running; false when `seconds` pass first.
    func waitForEmptyQueue(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let queue = try? command("squeue", ["-h"]), queue.isEmpty { return true }
            Thread.sleep(forTimeInterval: 0.5)
        }
        return false
    }

    /// The daemons' logs, for a failure's message.
    func logs() -> String {
        ["log/slurmctld.log", "log/slurmd.log", "munge/munged.log"].map { name in
            "\(name): " + ((try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)).map { String($0.suffix(2000)) } ?? "none")
        }.joined(separator: "\n")
    }

    /// Cancels what is left in the queue, ends the daemons (slurmd, slurmctld, munged, each waited for)
    /// and removes the folder.
    func stop() {
        if (try? command("scancel", ["--user=root"])) != nil { _ = waitForEmptyQueue(seconds: 15) }
        for daemon in daemons.reversed() {
            guard let text = try? String(contentsOfFile: daemon.pidFile, encoding: .utf8), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { continue }
            kill(pid, SIGTERM)
            for _ in 0..<100 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
        }
        daemons = []
        try? FileManager.default.removeItem(atPath: folder)
    }

    static func executable(_ name: String) -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
        return folders.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
