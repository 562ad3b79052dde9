package io.github.rerankservice.plugin;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options for tests: the response step's (every mode allowed), document_fields given. */
final class TestOptions {
  private TestOptions() {}

  /** {@code keyValues}: key, value, key, value, ... over {@code document_fields: ["title"]}. */
  static RerankOptions processor(Object... keyValues) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("document_fields", List.of("title"));
    for (int i = 0; i < keyValues.length; i += 2) {
      config.put((String) keyValues[i], keyValues[i + 1]);
    }
    return RerankOptions.parse(config, RerankOptions.Usage.RESPONSE_PROCESSOR);
  }
}
