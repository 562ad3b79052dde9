package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.NodeSettings;
import io.github.rerankservice.plugin.Reranker;
import java.io.IOException;
import java.util.Objects;
import java.util.function.Supplier;
import org.opensearch.core.common.io.stream.StreamInput;
import org.opensearch.core.common.io.stream.StreamOutput;
import org.opensearch.core.xcontent.ToXContent;
import org.opensearch.core.xcontent.XContentBuilder;
import org.opensearch.core.xcontent.XContentParser;
import org.opensearch.index.query.QueryRewriteContext;
import org.opensearch.index.query.QueryShardContext;
import org.opensearch.search.rescore.RescoreContext;
import org.opensearch.search.rescore.RescorerBuilder;

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
    this.options = RerankOptions.parse(in.readMap(), RerankOptions.Usage.RESCORER);
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
    out.writeMap(options.toMap());
  }

  @Override
  protected void doXContent(XContentBuilder builder, ToXContent.Params params) throws IOException {
    builder.field(NAME, options.toMap());
  }

  @Override
  protected RescoreContext innerBuildContext(int windowSize, QueryShardContext context) {
    NodeSettings.checkWindowSize(windowSize, reranker.get().settings());
    return new GrpcRerankRescorer.Context(windowSize, options, reranker.get());
  }

  @Override
  public RescorerBuilder<GrpcRerankRescorerBuilder> rewrite(QueryRewriteContext ctx) {
    return this;
  }

  @Override
  public String getWriteableName() {
    return NAME;
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
