package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.NodeSettings;
import io.github.rerankservice.plugin.Reranker;
import java.io.IOException;
import java.util.Objects;
import java.util.function.Supplier;
import org.elasticsearch.TransportVersion;
import org.elasticsearch.common.io.stream.StreamInput;
import org.elasticsearch.common.io.stream.StreamOutput;
import org.elasticsearch.index.query.QueryRewriteContext;
import org.elasticsearch.index.query.SearchExecutionContext;
import org.elasticsearch.search.rescore.RescoreContext;
import org.elasticsearch.search.rescore.RescorerBuilder;
import org.elasticsearch.xcontent.ToXContent;
import org.elasticsearch.xcontent.XContentBuilder;
import org.elasticsearch.xcontent.XContentParser;

/**
 * {@code "rescore": {"window_size": 50, "grpc_rerank": {"query_text": "...", "document_fields":
 * ["title", "body"]}}}: reranks each shard's top {@code window_size} hits. See {@link
 * GrpcRerankRescorer} for the scores it gives.
 */
public final class GrpcRerankRescorerBuilder extends RescorerBuilder<GrpcRerankRescorerBuilder> {
  public static final String NAME = "grpc_rerank";

  private final RerankOptions options;
  private final Supplier<Reranker> reranker;

  GrpcRerankRescorerBuilder(RerankOptions options, Supplier<Reranker> reranker) {
    this.options = Objects.requireNonNull(options, "options");
    this.reranker = reranker;
  }

  GrpcRerankRescorerBuilder(StreamInput in, Supplier<Reranker> reranker) throws IOException {
    super(in);
    this.options = RerankOptions.parse(in.readGenericMap(), RerankOptions.Usage.RESCORER);
    this.reranker = reranker;
  }

  static GrpcRerankRescorerBuilder fromXContent(XContentParser parser, Supplier<Reranker> reranker) throws IOException {
    return new GrpcRerankRescorerBuilder(RerankOptions.parse(parser.map(), RerankOptions.Usage.RESCORER), reranker);
  }

  RerankOptions options() {
    return options;
  }

  @Override
  protected void doWriteTo(StreamOutput out) throws IOException {
    out.writeGenericMap(options.toMap());
  }

  @Override
  protected void doXContent(XContentBuilder builder, ToXContent.Params params) throws IOException {
    builder.field(NAME, options.toMap());
  }

  @Override
  protected RescoreContext innerBuildContext(int windowSize, SearchExecutionContext context) {
    NodeSettings.checkWindowSize(windowSize, reranker.get().settings());
    return new GrpcRerankRescorer.Context(windowSize, options, reranker.get(), context);
  }

  @Override
  public RescorerBuilder<GrpcRerankRescorerBuilder> rewrite(QueryRewriteContext ctx) {
    return this;
  }

  @Override
  public String getWriteableName() {
    return NAME;
  }

  /**
   * No transport constraint of its own (version 0, as Elasticsearch's query rescorer): every node
   * that can read the clause has the plugin, and a plugin installs only into its own Elasticsearch
   * version. ({@code fromId(0)} rather than 8.19's {@code zero()}, which 8.18 lacks.)
   */
  @Override
  public TransportVersion getMinimalSupportedVersion() {
    return TransportVersion.fromId(0);
  }

  @Override
  public boolean equals(Object other) {
    return super.equals(other) && options.equals(((GrpcRerankRescorerBuilder) other).options);
  }

  @Override
  public int hashCode() {
    return Objects.hash(super.hashCode(), options);
  }
}
