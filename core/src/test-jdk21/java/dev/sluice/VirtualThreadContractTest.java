package dev.sluice;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The channel contract with every forked call of the suite (the blocked senders, receivers and iterators) on a
 * virtual thread, where the channel neither spins nor yields before it parks. The test's own thread stays a platform
 * thread. One tiny subclass per capacity; JDK 21+ only (profile {@code jdk21-tests}).
 */
abstract class VirtualThreadContractTest extends ChannelContractTest {

    @BeforeAll
    static void forkOnVirtualThreads() {
        ContractTestSupport.forkOn((name, body) -> Thread.ofVirtual().name(name).unstarted(body));
    }

    @AfterAll
    static void forkOnPlatformThreads() {
        ContractTestSupport.forkOn(ContractTestSupport.PLATFORM_THREADS);
    }

    @Test
    void fork_inThisConfiguration_runsOnAVirtualThread() throws Throwable {
        assertTrue(ContractTestSupport.fork("probe", () -> Thread.currentThread().isVirtual()).join(),
                "the forked calls of this configuration must run on virtual threads");
    }
}
