package io.github.rerankservice.plugin;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** A node's counters of reranker calls, for its stats endpoint. Thread-safe. */
public final class RerankStats {
  private final LongAdder calls = new LongAdder();
  private final LongAdder reranked = new LongAdder();
  private final LongAdder documents = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final LongAdder failedOpen = new LongAdder();
  private final LongAdder skipped = new LongAdder();
  private final LongAdder callNanos = new LongAdder();
  private final Map<RerankFailure.Kind, LongAdder> failuresByKind = new LinkedHashMap<>();

  public RerankStats() {
    for (RerankFailure.Kind kind : RerankFailure.Kind.values()) {
      failuresByKind.put(kind, new LongAdder());
    }
  }

  void called(int documentCount, long nanos) {
    calls.increment();
    reranked.increment();
    documents.add(documentCount);
    callNanos.add(nanos);
  }

  void failed(RerankFailure.Kind kind, long nanos) {
    calls.increment();
    failures.increment();
    failuresByKind.get(kind).increment();
    callNanos.add(nanos);
  }

  /** A search went on with its own order after a failure. */
  public void failedOpen() {
    failedOpen.increment();
  }

  /** A search was not reranked by choice (no query text, no hits). */
  public void skipped() {
    skipped.increment();
  }

  /** The counters as a JSON-ready map. */
  public Map<String, Object> snapshot() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("calls", calls.sum());
    out.put("reranked", reranked.sum());
    out.put("documents", documents.sum());
    out.put("failures", failures.sum());
    Map<String, Long> byKind = new LinkedHashMap<>();
    failuresByKind.forEach((kind, count) -> byKind.put(kind.name().toLowerCase(java.util.Locale.ROOT), count.sum()));
    out.put("failures_by_kind", byKind);
    out.put("failed_open", failedOpen.sum());
    out.put("skipped", skipped.sum());
    out.put("call_time_in_millis", callNanos.sum() / 1_000_000);
    return out;
  }
}
