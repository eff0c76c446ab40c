package dev.sluice.examples;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Captures what an example's {@code main} prints. */
final class Stdout {
    private Stdout() {
    }

    /** An example's {@code main}. */
    interface Main {
        void run() throws Exception;
    }

    /** Runs {@code main} with System.out captured; echoes and returns what it printed. */
    static synchronized String capture(Main main) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            main.run();
        } finally {
            System.setOut(original);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        original.print(out);
        return out;
    }
}
