package dev.sluice.reliability.lincheck;

/** Lincheck on a channel of capacity 2. */
public class ChannelCapacityTwoLincheckTest extends AbstractChannelLincheckTest {

    /** Creates the channel under test. */
    public ChannelCapacityTwoLincheckTest() {
        super(2);
    }
}
