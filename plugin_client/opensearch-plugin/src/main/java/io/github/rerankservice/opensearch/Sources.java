package io.github.rerankservice.opensearch;

import java.util.Map;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.core.common.bytes.BytesReference;

/** A hit's {@code _source} as a map. */
final class Sources {
  private Sources() {}

  /**
   * The source with its keys in their stored order (OpenSearch's own source maps are unordered),
   * since an object field's passage text is its JSON, key order included.
   */
  static Map<String, Object> ordered(BytesReference source) {
    return XContentHelper.convertToMap(source, true).v2();
  }
}
