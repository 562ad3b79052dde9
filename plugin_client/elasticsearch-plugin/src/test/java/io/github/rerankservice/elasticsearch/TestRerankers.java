package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.ChannelSettings;
import io.github.rerankservice.plugin.Reranker;
import java.time.Duration;

/** Rerankers for tests. */
final class TestRerankers {
  private TestRerankers() {}

  /** A reranker of {@code target} ("" for none: every call fails as not configured). */
  static Reranker reranker(String target, boolean failOpen, int maxWindowSize) {
    return new Reranker(new ChannelSettings(target, false, null, null, null, null, null, Duration.ofSeconds(5), failOpen,
        null, maxWindowSize));
  }

  /** No reranker configured; the node fails open and allows windows up to {@code maxWindowSize}. */
  static Reranker unconfigured(int maxWindowSize) {
    return reranker("", true, maxWindowSize);
  }
}
