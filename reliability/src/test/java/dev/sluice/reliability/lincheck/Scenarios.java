package dev.sluice.reliability.lincheck;

import java.util.Objects;
import java.util.function.Consumer;

import kotlin.Unit;
import kotlin.reflect.KFunction;
import kotlin.reflect.jvm.ReflectJvmMapping;

import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.CustomScenarioDSLKt;
import org.jetbrains.lincheck.datastructures.DSLThreadScenario;

/**
 * Builds a Lincheck custom scenario from Java: an initial part run alone, then two threads in parallel. Model
 * checking explores the interleavings of a custom scenario before its random ones, so a known failing shape is found
 * on every run instead of by luck.
 */
final class Scenarios {

    private Scenarios() {
    }

    /**
     * A scenario of operations of {@code test}.
     *
     * @param test the Lincheck test class declaring the operations
     * @param initial the operations run first, alone
     * @param first the operations of the first parallel thread
     * @param second the operations of the second parallel thread
     * @return the scenario
     */
    static ExecutionScenario of(Class<?> test, Consumer<Ops> initial, Consumer<Ops> first, Consumer<Ops> second) {
        return CustomScenarioDSLKt.scenario(b -> {
            b.initial(t -> {
                initial.accept(new Ops(test, t));
                return Unit.INSTANCE;
            });
            b.parallel(p -> {
                p.thread(t -> {
                    first.accept(new Ops(test, t));
                    return Unit.INSTANCE;
                });
                p.thread(t -> {
                    second.accept(new Ops(test, t));
                    return Unit.INSTANCE;
                });
                return Unit.INSTANCE;
            });
            return Unit.INSTANCE;
        });
    }

    /** Adds operations of the test class to one thread of a scenario. */
    static final class Ops {
        private final Class<?> test;
        private final DSLThreadScenario thread;

        Ops(Class<?> test, DSLThreadScenario thread) {
            this.test = test;
            this.thread = thread;
        }

        /**
         * Adds an operation without arguments.
         *
         * @param name the operation method
         * @return this
         */
        Ops op(String name) {
            thread.actor(function(name));
            return this;
        }

        /**
         * Adds an operation with one int argument.
         *
         * @param name the operation method
         * @param arg its argument
         * @return this
         */
        Ops op(String name, int arg) {
            thread.actor(function(name, int.class), arg);
            return this;
        }

        private KFunction<?> function(String name, Class<?>... parameterTypes) {
            try {
                return Objects.requireNonNull(
                        ReflectJvmMapping.getKotlinFunction(test.getMethod(name, parameterTypes)));
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
