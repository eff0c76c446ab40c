package dev.sluice.reliability.lincheck;

/**
 * Lincheck sizes: small defaults that keep the whole Lincheck suite near half a minute on two cores, overridable
 * with {@code -Dlincheck.modelChecking.iterations=..}, {@code -Dlincheck.modelChecking.invocationsPerIteration=..},
 * {@code -Dlincheck.stress.iterations=..} and {@code -Dlincheck.stress.invocationsPerIteration=..} for a nightly run
 * (Caffeine's weekly job uses 100 x 1,000 and 100 x 10,000).
 */
final class LincheckSizes {
    /** Different scenarios generated. */
    final int iterations;
    /** Runs (interleavings or stress repetitions) per scenario. */
    final int invocationsPerIteration;

    private LincheckSizes(int iterations, int invocationsPerIteration) {
        this.iterations = iterations;
        this.invocationsPerIteration = invocationsPerIteration;
    }

    /**
     * Sizes for bounded model checking (sequential consistency, prints the failing interleaving).
     *
     * @param iterations the default number of scenarios
     * @param invocations the default number of interleavings per scenario
     * @return the sizes, after system-property overrides
     */
    static LincheckSizes modelChecking(int iterations, int invocations) {
        return new LincheckSizes(
                Integer.getInteger("lincheck.modelChecking.iterations", iterations),
                Integer.getInteger("lincheck.modelChecking.invocationsPerIteration", invocations));
    }

    /**
     * Sizes for stress mode (real threads, real memory model).
     *
     * @param iterations the default number of scenarios
     * @param invocations the default number of runs per scenario
     * @return the sizes, after system-property overrides
     */
    static LincheckSizes stress(int iterations, int invocations) {
        return new LincheckSizes(
                Integer.getInteger("lincheck.stress.iterations", iterations),
                Integer.getInteger("lincheck.stress.invocationsPerIteration", invocations));
    }
}
