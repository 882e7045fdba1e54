import Foundation
import Synchronization

/// SIGTERM and SIGUSR1, which Slurm sends before it preempts a job or ends it at its time limit
/// (`--signal=USR1@120`), turned into a flag that long runs check between steps: they save their
/// state and stop, and the job is requeued (`requeueExitStatus`) to resume where it stopped.
public enum StopSignals {
    /// The exit status of a run that stopped on a signal with its state saved: EX_TEMPFAIL of
    /// sysexits.h, "try again later"; the batch scripts of `sweep` requeue the job on it.
    public static let requeueExitStatus: Int32 = 75

    private static let received = Atomic<Int32>(0)

    /// Installs the handlers (once per process; later calls do nothing more) and unblocks the two
    /// signals for the calling thread, which a parent may have left blocked (a process spawned from a
    /// Dispatch worker thread inherits its mask): call it from the thread that runs the work.
    public static func install() {
        _ = installation
        var signals = sigset_t()
        sigemptyset(&signals)
        for signalNumber in handled { sigaddset(&signals, signalNumber) }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    private static let handled = [SIGTERM, SIGUSR1]

    private static let installation: Void = {
        for signalNumber in handled {
            signal(signalNumber) { number in StopSignals.received.store(number, ordering: .relaxed) }
        }
    }()

    /// Whether a stop was asked for since the handlers were installed.
    public static var requested: Bool { received.load(ordering: .relaxed) != 0 }

    /// What a run stopped by the signal says before it exits with `requeueExitStatus`; `position` says
    /// where it stopped ("at step 1200").
    public static func stopReport(_ position: String) -> String {
        "stopped by \(name) \(position) with its state saved; the same command resumes it "
            + "(exit status \(requeueExitStatus): requeue)"
    }

    /// The signal's name, for the message of a stopped run.
    public static var name: String {
        switch received.load(ordering: .relaxed) {
        case SIGTERM: "SIGTERM"
        case SIGUSR1: "SIGUSR1"
        case 0: "no signal"
        case let other: "signal \(other)"
        }
    }
}
