import Foundation
import Persistence

/// Why a sweep could not be written.
public enum SweepError: Error, Equatable, CustomStringConvertible {
    /// An option's value that makes no sweep (a usage error); the message names the option and the value.
    case badOption(String)
    /// Something the jobs need that is not there: a dataset, an executable.
    case missing(String)

    public var description: String {
        switch self {
        case let .badOption(message), let .missing(message): message
        }
    }
}

/// What each job of a sweep asks Slurm for, checked the way sbatch would take it, so that a typo fails
/// here and not in the queue.
public struct SlurmResources: Sendable, Equatable {
    public let cpusPerTask: Int
    /// `--mem`: a whole number with an optional K, M, G or T (megabytes without one).
    public let memory: String
    /// `--time` as given, and in seconds.
    public let timeLimit: String
    public let timeLimitSeconds: Int
    public let partition: String?
    /// `--constraint`: node features every job needs, e.g. `avx512f`, so that a sweep's jobs run on
    /// machines of one arithmetic (`DenseProducts.arithmetic`), whose numbers agree to the bit.
    public let constraint: String?

    public init(cpusPerTask: Int, memory: String, timeLimit: String, partition: String?, constraint: String? = nil) throws {
        guard cpusPerTask >= 1 else { throw SweepError.badOption("--cpus-per-task must be at least 1 (got \(cpusPerTask))") }
        guard let last = memory.last, memory.dropLast().allSatisfy(\.isASCIIDigit), last.isASCIIDigit || "KMGT".contains(last),
              memory.contains(where: \.isASCIIDigit)
        else {
            throw SweepError.badOption("--mem must be a size as Slurm takes it, a whole number with K, M, G or T, e.g. 8G (got '\(memory)')")
        }
        guard let seconds = Self.seconds(ofTimeLimit: timeLimit), seconds > 0 else {
            throw SweepError.badOption("--time must be a time limit as Slurm takes it: minutes, minutes:seconds, hours:minutes:seconds, "
                + "days-hours, days-hours:minutes or days-hours:minutes:seconds (got '\(timeLimit)')")
        }
        if let partition, !Self.isWord(partition, punctuation: "_-.,") {
            throw SweepError.badOption("--partition must be a partition's name (or names, separated by commas) (got '\(partition)')")
        }
        if let constraint, !Self.isWord(constraint, punctuation: "_-.,:&|[]()*") {
            throw SweepError.badOption("--constraint must be node features as Slurm takes them, e.g. avx512f or "
                + "'[skylake|icelake]' (got '\(constraint)')")
        }
        self.cpusPerTask = cpusPerTask
        self.memory = memory
        self.timeLimit = timeLimit
        timeLimitSeconds = seconds
        self.partition = partition
        self.constraint = constraint
    }

    /// Whether `text` is not empty and holds ASCII letters, digits and `punctuation` alone: what a Slurm
    /// name or expression of that kind can hold, and nothing a shell or sbatch would read otherwise.
    private static func isWord(_ text: String, punctuation: String) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || punctuation.contains($0)) }
    }

    /// Seconds of a `--time` value, or nil when sbatch would not take it.
    static func seconds(ofTimeLimit text: String) -> Int? {
        let dayAndClock = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let clock = dayAndClock.last!.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard dayAndClock.count <= 2, clock.count <= 3 else { return nil }
        var values: [Int] = []
        for field in dayAndClock.dropLast() + clock {
            guard !field.isEmpty, field.allSatisfy(\.isASCIIDigit), let value = Int(field) else { return nil }
            values.append(value)
        }
        if dayAndClock.count == 2 {  // days-hours[:minutes[:seconds]]
            let hoursMinutesSeconds = Array(values.dropFirst()) + [0, 0]
            let hours = values[0] * 24 + hoursMinutesSeconds[0]
            return (hours * 60 + hoursMinutesSeconds[1]) * 60 + hoursMinutesSeconds[2]
        }
        switch values.count {
        case 1: return values[0] * 60
        case 2: return values[0] * 60 + values[1]
        default: return (values[0] * 60 + values[1]) * 60 + values[2]
        }
    }

    var directives: [String] {
        ["--cpus-per-task=\(cpusPerTask)", "--mem=\(memory)", "--time=\(timeLimit)"] + (partition.map { ["--partition=\($0)"] } ?? [])
            + (constraint.map { ["--constraint=\($0)"] } ?? [])
    }
}

/// The executables the jobs run, from one build: absolute paths, since a job runs on another node.
public struct SweepExecutables: Sendable {
    public let folder: String

    /// The executables beside the one running (`sweep` of the same build).
    public static var besideThisOne: SweepExecutables {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        return SweepExecutables(folder: executable.resolvingSymlinksInPath().deletingLastPathComponent().path)
    }

    public init(folder: String) {
        self.folder = URL(fileURLWithPath: folder).standardizedFileURL.path
    }

    func path(of name: String) throws -> String {
        let path = folder + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw SweepError.missing("\(path) is not an executable: the jobs run \(name) of the build that runs sweep "
                + "(swift build -c release builds both)")
        }
        return path
    }
}

/// Slurm batch scripts: a job array whose task i runs the i-th command, and a single job.
enum SlurmScript {
    /// Slurm warns a training job's batch shell this long before its time limit (`--signal=B:USR1@120`).
    static let warningSeconds = 120

    /// `word` as one word of a bash command line.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0)) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    static func commandLine(_ words: [String]) -> String { words.map(quoted).joined(separator: " ") }

    /// How an array task runs its command.
    enum Runner {
        /// `exec`: work that has nothing to save (a shard of an evaluation reruns whole when requeued).
        case plain
        /// The training runs' signal dance: Slurm's warning (USR1) and a preemption's or scancel's TERM are
        /// passed on to the run as USR1; the run saves its state after its current step and exits with
        /// `StopSignals.requeueExitStatus`, and after the warning the job requeues itself.
        case requeuedOnWarning
    }

    static func array(name: String, header: [String], resources: SlurmResources, workingDirectory: String, logs: String,
                      commands: [[String]], runner: Runner) -> String {
        var directives = ["--job-name=\(name)", "--array=0-\(commands.count - 1)"] + resources.directives
            + ["--chdir=\(workingDirectory)", "--output=\(logs)/%x-%A_%a.out", "--open-mode=append", "--requeue"]
        if case .requeuedOnWarning = runner { directives.append("--signal=B:USR1@\(warningSeconds)") }
        var body = [#"case "$SLURM_ARRAY_TASK_ID" in"#]
        for (index, command) in commands.enumerated() {
            body.append("  \(index)) run=(\(commandLine(command))) ;;")
        }
        body += [#"  *) echo "sweep: no array task $SLURM_ARRAY_TASK_ID in this script (0-\#(commands.count - 1))" >&2; exit 64 ;;"#,
                 "esac", "echo \"sweep: job $SLURM_JOB_ID (array task $SLURM_ARRAY_TASK_ID, start ${SLURM_RESTART_COUNT:-0}) on $(hostname)\""]
        switch runner {
        case .plain:
            body.append(#"exec "${run[@]}""#)
        case .requeuedOnWarning:
            body += Self.signalForwarding
        }
        return script(header: header, directives: directives, body: body)
    }

    static func single(name: String, header: [String], resources: SlurmResources, workingDirectory: String, logs: String,
                       commands: [[String]]) -> String {
        let directives = ["--job-name=\(name)"] + resources.directives
            + ["--chdir=\(workingDirectory)", "--output=\(logs)/%x-%j.out", "--kill-on-invalid-dep=yes"]
        return script(header: header, directives: directives, body: ["set -e"] + commands.map(commandLine))
    }

    private static func script(header: [String], directives: [String], body: [String]) -> String {
        (["#!/bin/bash"] + header.map { "# " + $0 } + directives.map { "#SBATCH " + quoted($0) } + [""] + body)
            .joined(separator: "\n") + "\n"
    }

    /// Runs `run` in the background so that this shell can take the signals, passes them on, and requeues
    /// the job when the run stopped on the warning. A trapped signal ends `wait` early (status above 128)
    /// while the run goes on, so the shell waits again for the run's own status (bash keeps the status of a
    /// child that ended in between).
    private static let signalForwarding = [
        "",
        "# Slurm warns this shell with USR1 \(warningSeconds) s before the time limit; a preemption or scancel sends TERM",
        "# to every process of the job. Either is passed on to the run as USR1: it saves its state after its",
        "# current step and exits with \(StopSignals.requeueExitStatus). After the warning the job requeues itself and the same",
        "# command resumes the run; after a TERM Slurm decides (a preemption may requeue, scancel does not).",
        "warned=0 interrupted=0 child=",
        #"trap 'warned=1 interrupted=1; [ -z "$child" ] || kill -USR1 "$child" 2>/dev/null' USR1"#,
        #"trap 'interrupted=1; [ -z "$child" ] || kill -USR1 "$child" 2>/dev/null' TERM"#,
        #""${run[@]}" &"#,
        "child=$!",
        #"[ "$interrupted" = 0 ] || kill -USR1 "$child" 2>/dev/null"#,
        "while :; do",
        "  interrupted=0",
        #"  wait "$child"; status=$?"#,
        #"  [ "$status" -gt 128 ] && [ "$interrupted" = 1 ] || break"#,
        "done",
        #"if [ "$status" -eq \#(StopSignals.requeueExitStatus) ] && [ "$warned" = 1 ]; then"#,
        #"  echo "sweep: the run saved its state and stopped (exit \#(StopSignals.requeueExitStatus)); requeueing job $SLURM_JOB_ID""#,
        #"  scontrol requeue "$SLURM_JOB_ID""#,
        "fi",
        #"exit "$status""#,
    ]
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
