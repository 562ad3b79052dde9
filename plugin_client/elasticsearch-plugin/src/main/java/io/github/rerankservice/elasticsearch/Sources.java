package io.github.rerankservice.elasticsearch;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.util.BytesRef;
import org.elasticsearch.common.bytes.BytesArray;
import org.elasticsearch.common.bytes.BytesReference;
import org.elasticsearch.common.xcontent.XContentHelper;
import org.elasticsearch.index.query.SearchExecutionContext;
import org.elasticsearch.search.lookup.Source;

/** A hit's {@code _source} as a map. */
final class Sources {
  private Sources() {}

  /**
   * The {@code _source} of the shard's document {@code doc} (a top-level doc id), with its keys in
   * their stored order, since an object field's passage text is its JSON, key order included.
   * Read through the shard's source lookup, so that an index with synthetic {@code _source}
   * gives the source a search returns; without a shard context, from the stored field.
   */
  static Map<String, Object> of(IndexSearcher searcher, SearchExecutionContext shard, int doc) throws IOException {
    Source source;
    if (shard == null) {
      BytesRef stored = searcher.storedFields().document(doc, Set.of("_source")).getBinaryValue("_source");
      if (stored == null) {
        return Map.of();
      }
      source = Source.fromBytes(new BytesArray(stored));
    } else {
      List<LeafReaderContext> leaves = searcher.getIndexReader().leaves();
      LeafReaderContext leaf = leaves.get(ReaderUtil.subIndex(doc, leaves));
      source = shard.lookup().getSource(leaf, doc - leaf.docBase);
    }
    BytesReference bytes = source.internalSourceRef();
    if (bytes == null || bytes.length() == 0) {
      return Map.of();
    }
    // Source#source() is unordered; a map read with ordered = true keeps the stored key order.
    return XContentHelper.convertToMap(bytes, true, source.sourceContentType()).v2();
  }
}
