package dev.sluice.reactor;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;

/*
 * The default home of a blocking stage: a new thread per run, virtual on JDK 21+ and a named daemon platform thread
 * otherwise. Main code is compiled with --release 17, so Thread.ofVirtual() is reached through method handles, once.
 */
final class StageThreads implements Executor {

    static final StageThreads INSTANCE = new StageThreads();

    /** A factory of virtual threads named sluice-stage-N, or null before JDK 21 (or with preview APIs off). */
    private static final ThreadFactory VIRTUAL = virtualThreadFactory();

    private static final AtomicLong PLATFORM_COUNTER = new AtomicLong();

    private StageThreads() {
    }

    /** Tells whether stages run on virtual threads in this JVM. */
    static boolean virtual() {
        return VIRTUAL != null;
    }

    @Override
    public void execute(Runnable command) {
        Thread thread;
        if (VIRTUAL != null) {
            thread = VIRTUAL.newThread(command);
        } else {
            thread = new Thread(command, "sluice-stage-" + PLATFORM_COUNTER.incrementAndGet());
            thread.setDaemon(true);
        }
        thread.start();
    }

    private static ThreadFactory virtualThreadFactory() {
        try {
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> builder = Class.forName("java.lang.Thread$Builder");
            Class<?> ofVirtual = Class.forName("java.lang.Thread$Builder$OfVirtual");
            MethodHandle newBuilder = lookup.findStatic(Thread.class, "ofVirtual", MethodType.methodType(ofVirtual));
            MethodHandle name = lookup.findVirtual(builder, "name",
                    MethodType.methodType(builder, String.class, long.class));
            MethodHandle factory = lookup.findVirtual(builder, "factory", MethodType.methodType(ThreadFactory.class));
            Object named = name.invoke(newBuilder.invoke(), "sluice-stage-", 1L);
            ThreadFactory threads = (ThreadFactory) factory.invoke(named);
            threads.newThread(() -> { }); // fails here if virtual threads are a disabled preview (JDK 19, 20)
            return threads;
        } catch (Throwable notAvailable) {
            return null;
        }
    }
}
