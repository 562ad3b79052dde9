package io.github.rerankservice.plugin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The passage the reranker reads for a hit: the {@code document_fields} of its {@code _source},
 * the same rule as the Python library's {@code rerank_client.merge.passage_text}:
 *
 * <ul>
 *   <li>a dotted name reaches into objects, and into every object of a list of objects;
 *   <li>a list value gives each of its items, joined by "\n", null items skipped;
 *   <li>strings as they are, numbers and booleans as Python's {@code str()} writes them, an
 *       object (or a list inside a list) as compact JSON;
 *   <li>missing, null and empty fields are skipped; the fields' texts are joined by "\n";
 *   <li>the passage is cut to {@code maxChars} characters (Unicode code points).
 * </ul>
 */
public final class PassageText {
  private PassageText() {}

  /** The passage of {@code source} ({@code null} reads as an empty source). */
  public static String of(Map<String, ?> source, List<String> fields, int maxChars) {
    StringJoiner passage = new StringJoiner("\n");
    if (source != null) {
      for (String field : fields) {
        String text = fieldText(source, field);
        if (text != null && !text.isEmpty()) {
          passage.add(text);
        }
      }
    }
    return cut(passage.toString(), maxChars);
  }

  /** The text of one field, or {@code null} when it is missing or null. */
  public static String fieldText(Map<String, ?> source, String dottedName) {
    List<Object> values = List.of(source);
    for (String part : dottedName.split("\\.", -1)) {
      List<Object> next = new ArrayList<>();
      for (Object value : values) {
        for (Object item : items(value)) {
          if (item instanceof Map<?, ?> object && object.get(part) != null) {
            next.add(object.get(part));
          }
        }
      }
      values = next;
    }
    StringJoiner text = new StringJoiner("\n");
    int count = 0;
    for (Object value : values) {
      for (Object item : items(value)) {
        if (item != null) {
          text.add(asText(item));
          count++;
        }
      }
    }
    return count == 0 ? null : text.toString();
  }

  private static List<?> items(Object value) {
    return value instanceof List<?> list ? list : List.of(value);
  }

  /** The Python library's text of one item, so both build one passage. */
  private static String asText(Object item) {
    if (item instanceof Map<?, ?> || item instanceof List<?>) {
      StringBuilder json = new StringBuilder();
      writeJson(item, json);
      return json.toString();
    }
    if (item instanceof Boolean bool) {
      return bool ? "True" : "False"; // Python's str()
    }
    return String.valueOf(item);
  }

  /** Compact JSON as Python's {@code json.dumps(item, ensure_ascii=False, separators=(",", ":"))}. */
  private static void writeJson(Object item, StringBuilder out) {
    if (item instanceof Map<?, ?> object) {
      out.append('{');
      String separator = "";
      for (Map.Entry<?, ?> entry : object.entrySet()) {
        out.append(separator);
        writeJson(String.valueOf(entry.getKey()), out);
        out.append(':');
        writeJson(entry.getValue(), out);
        separator = ",";
      }
      out.append('}');
    } else if (item instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        out.append(i == 0 ? "" : ",");
        writeJson(list.get(i), out);
      }
      out.append(']');
    } else if (item instanceof String string) {
      out.append('"');
      string.chars().forEach(c -> out.append(switch (c) {
        case '"' -> "\\\"";
        case '\\' -> "\\\\";
        case '\n' -> "\\n";
        case '\r' -> "\\r";
        case '\t' -> "\\t";
        case '\b' -> "\\b";
        case '\f' -> "\\f";
        default -> c < 0x20 ? String.format(java.util.Locale.ROOT, "\\u%04x", c) : String.valueOf((char) c);
      }));
      out.append('"');
    } else {
      out.append(item == null ? "null" : String.valueOf(item)); // numbers and JSON's true/false
    }
  }

  private static String cut(String text, int maxChars) {
    if (text.codePointCount(0, text.length()) <= maxChars) {
      return text;
    }
    return text.substring(0, text.offsetByCodePoints(0, maxChars));
  }
}
