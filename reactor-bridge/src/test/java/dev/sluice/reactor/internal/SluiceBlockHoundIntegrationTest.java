package dev.sluice.reactor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

/**
 * Keeps the BlockHound allow-list in step with the core: BlockHound matches methods by name, so a renamed
 * ChannelCore method would silently drop out of the list. (The behaviour itself is tested by SluiceBlockHoundTest in
 * the blockhound-test execution; this one runs without BlockHound installed.)
 */
class SluiceBlockHoundIntegrationTest {

    private static Set<String> coreMethods() throws ClassNotFoundException {
        return Arrays.stream(Class.forName(SluiceBlockHoundIntegration.CORE).getDeclaredMethods())
                .map(Method::getName)
                .collect(Collectors.toSet());
    }

    @Test
    void allowAndDisallowLists_nameExistingChannelCoreMethods() throws Exception {
        Set<String> methods = coreMethods();
        for (String name : SluiceBlockHoundIntegration.LOCKING_CORE_METHODS) {
            assertTrue(methods.contains(name), "ChannelCore." + name + " is allow-listed but does not exist");
        }
    }

    @Test
    void allowList_neverCoversTheBlockingMethods() {
        List<String> allowed = List.of(SluiceBlockHoundIntegration.LOCKING_CORE_METHODS);
        for (String blocking : List.of("send", "receive", "awaitItem", "await", "signal", "undeliver", "pump", "admit", "take")) {
            assertFalse(allowed.contains(blocking), blocking + " must stay visible to BlockHound");
        }
        assertEquals(allowed.size(), Set.copyOf(allowed).size(), "no duplicates");
    }
}
