import Testing
import TerminalProgress

@Suite struct ProgressFormatTests {
    @Test(arguments: [
        (0.42, "0.42 steps/s"), (8.5, "8.50 steps/s"), (58, "58.0 steps/s"), (850, "850 steps/s"),
        (9_999, "9999 steps/s"), (18_300, "18.3k steps/s"), (250_000, "250k steps/s"), (21_000_000, "21.0M steps/s"),
        (0, "– steps/s"), (.infinity, "– steps/s"), (.nan, "– steps/s"),
    ])
    func ratesReadWellAtAnyMagnitude(_ perSecond: Double, _ expected: String) {
        #expect(ProgressFormat.rate(perSecond, unit: "steps") == expected)
    }

    @Test(arguments: [(0.2, "1 s"), (45, "45 s"), (59.5, "1 min"), (61, "2 min"), (3599, "1 h 00 min"), (3601, "1 h 01 min"),
                      (11 * 3600 + 5 * 60, "11 h 05 min"), (-1, "–"), (.infinity, "–")])
    func durationsRoundUp(_ seconds: Double, _ expected: String) {
        #expect(ProgressFormat.duration(seconds: seconds) == expected)
    }

    @Test func timeLeftBeforeThereIsARate() {
        #expect(ProgressFormat.timeLeft(remaining: 100, perSecond: 0) == "– left")
        #expect(ProgressFormat.timeLeft(remaining: 100, perSecond: 10) == "10 s left")
    }
}
