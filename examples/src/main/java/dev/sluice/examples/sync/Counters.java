package dev.sluice.examples.sync;

import java.util.concurrent.atomic.LongAdder;

/**
 * Live counters of one run, written by the walker (scanned) and the summary stage (done), read by the progress display.
 */
final class Counters {
    /* scanned: written by the walker thread after each accepted send */
    final LongAdder scannedFiles = new LongAdder();
    final LongAdder scannedBytes = new LongAdder();
    final LongAdder scannedDirs = new LongAdder();
    final LongAdder ignored = new LongAdder();
    volatile boolean scanComplete;

    /* done: written by the summary stage, one outcome at a time */
    final LongAdder doneFiles = new LongAdder();
    final LongAdder doneBytes = new LongAdder();
    final LongAdder copiedFiles = new LongAdder();
    final LongAdder copiedBytes = new LongAdder();
    final LongAdder skippedFiles = new LongAdder();
    final LongAdder touchedFiles = new LongAdder();
    final LongAdder failedFiles = new LongAdder();
    final LongAdder createdDirs = new LongAdder(); // written by the writer
    final LongAdder deleted = new LongAdder();

    void record(Outcome outcome) {
        FileJob job = outcome.job();
        if (job.isDirectory()) {
            if (outcome.status() == Outcome.Status.FAILED) {
                failedFiles.increment();
            }
            return; // the writer counts the directories it creates (createdDirs)
        }
        switch (outcome.status()) {
            case COPIED -> {
                copiedFiles.increment();
                copiedBytes.add(job.size());
            }
            case SKIPPED -> skippedFiles.increment();
            case TOUCHED -> {
                skippedFiles.increment();
                touchedFiles.increment();
            }
            case FAILED -> failedFiles.increment();
        }
        doneFiles.increment();
        doneBytes.add(job.size());
    }
}
