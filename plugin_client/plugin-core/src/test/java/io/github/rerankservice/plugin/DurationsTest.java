package io.github.rerankservice.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @Test
  void parsesMillisecondsSecondsAndMinutes() {
    assertEquals(Duration.ofMillis(500), Durations.parse("500ms", "timeout"));
    assertEquals(Duration.ofSeconds(1), Durations.parse("1s", "timeout"));
    assertEquals(Duration.ofMinutes(2), Durations.parse("2m", "timeout"));
  }

  @Test
  void parseIgnoresCaseAndSurroundingSpace() {
    assertEquals(Duration.ofSeconds(3), Durations.parse(" 3S ", "timeout"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "1", "1h", "1.5s", "-1s", "1 s", "ms", "1sec"})
  void parseRefusesWhatIsNotATimeValueNamingIt(String text) {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text, "timeout"));

    assertEquals("timeout must be a time value such as 500ms, 1s or 2m, got [" + text + "]", error.getMessage());
  }

  @Test
  void parseRefusesNull() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Durations.parse(null, "timeout"));

    assertEquals("timeout must be a time value such as 500ms, 1s or 2m, got [null]", error.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"0ms", "0s", "0m"})
  void parseRefusesZero(String text) {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text, "timeout"));

    assertEquals("timeout must be positive, got [" + text + "]", error.getMessage());
  }

  /** A value too large for a Duration is the caller's mistake, named like the others (a 400, not a 500). */
  @ParameterizedTest
  @ValueSource(strings = {"999999999999999999m", "99999999999999999999ms"})
  void parseRefusesAValueTooLargeNamingIt(String text) {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text, "timeout"));

    assertTrue(error.getMessage().startsWith("timeout "), error.getMessage());
  }

  @Test
  void formatWritesTheShortestExactUnit() {
    assertEquals("2m", Durations.format(Duration.ofMinutes(2)));
    assertEquals("90s", Durations.format(Duration.ofSeconds(90)));
    assertEquals("1s", Durations.format(Duration.ofMillis(1000)));
    assertEquals("1500ms", Durations.format(Duration.ofMillis(1500)));
    assertEquals("1ms", Durations.format(Duration.ofMillis(1)));
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 250, 999, 1000, 1001, 59_000, 60_000, 61_000, 120_000, 3_600_000})
  void formatIsReadBackByParse(long millis) {
    Duration duration = Duration.ofMillis(millis);

    assertEquals(duration, Durations.parse(Durations.format(duration), "timeout"));
  }
}
