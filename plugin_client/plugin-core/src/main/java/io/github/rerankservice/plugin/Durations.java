package io.github.rerankservice.plugin;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Time values as search engines write them: {@code 500ms}, {@code 1s}, {@code 2m}. */
public final class Durations {
  /** Nine digits at most: any longer time is a mistake, and it could overflow a Duration. */
  private static final Pattern TIME_VALUE = Pattern.compile("(\\d{1,9})(ms|s|m)");

  private Durations() {}

  /** The positive duration {@code text} names; {@code what} names it in the error. */
  public static Duration parse(String text, String what) {
    Matcher matcher = TIME_VALUE.matcher(text == null ? "" : text.trim().toLowerCase(Locale.ROOT));
    if (!matcher.matches()) {
      throw new IllegalArgumentException(
          what + " must be a time value such as 500ms, 1s or 2m, got [" + text + "]");
    }
    long amount = Long.parseLong(matcher.group(1));
    Duration duration = switch (matcher.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      default -> Duration.ofMinutes(amount);
    };
    if (duration.isZero()) {
      throw new IllegalArgumentException(what + " must be positive, got [" + text + "]");
    }
    return duration;
  }

  /** The shortest exact text of {@code duration} that {@link #parse} reads back. */
  public static String format(Duration duration) {
    long millis = duration.toMillis();
    if (millis % 60_000 == 0) {
      return millis / 60_000 + "m";
    }
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }
}
