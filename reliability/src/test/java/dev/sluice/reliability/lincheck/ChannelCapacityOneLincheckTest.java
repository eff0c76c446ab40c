package dev.sluice.reliability.lincheck;

/** Lincheck on a channel of capacity 1. */
public class ChannelCapacityOneLincheckTest extends AbstractChannelLincheckTest {

    /** Creates the channel under test. */
    public ChannelCapacityOneLincheckTest() {
        super(1);
    }
}
