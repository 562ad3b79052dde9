package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.ChannelSettings;
import io.github.rerankservice.plugin.Reranker;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.opensearch.cluster.metadata.IndexNameExpressionResolver;
import org.opensearch.cluster.node.DiscoveryNodes;
import org.opensearch.cluster.service.ClusterService;
import org.opensearch.common.settings.ClusterSettings;
import org.opensearch.common.settings.IndexScopedSettings;
import org.opensearch.common.settings.Setting;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.settings.SettingsFilter;
import org.opensearch.plugins.ActionPlugin;
import org.opensearch.plugins.ReloadablePlugin;
import org.opensearch.plugins.SearchPipelinePlugin;
import org.opensearch.plugins.SearchPlugin;
import org.opensearch.rest.RestController;
import org.opensearch.rest.RestHandler;
import org.opensearch.search.pipeline.Processor;
import org.opensearch.search.pipeline.SearchRequestProcessor;
import org.opensearch.search.pipeline.SearchResponseProcessor;

/**
 * Reranks OpenSearch hits with the rerank gRPC service: the {@code grpc_rerank} rescorer (per
 * shard), the {@code grpc_rerank} search pipeline steps (once, after the shards are merged), the
 * {@code grpc_rerank} search ext that carries the pipeline's query text, and {@code GET
 * _plugins/grpc_rerank/stats}. One connection per node, made at start and closed at stop.
 */
public class GrpcRerankPlugin extends ClusterServicePlugin implements SearchPlugin, SearchPipelinePlugin, ActionPlugin, ReloadablePlugin {
  private final Path configDir;
  private final Reranker reranker;
  private volatile Settings current;
  private volatile String apiKey;

  public GrpcRerankPlugin(Settings settings, Path configPath) {
    this.configDir = configPath;
    this.current = settings;
    // The keystore is open only while the node starts (and on reload): read the key now.
    this.apiKey = RerankSettings.apiKey(settings);
    this.reranker = new Reranker(RerankSettings.channelSettings(settings, configPath, apiKey));
  }

  @Override
  protected Collection<Object> components(ClusterService clusterService) {
    ClusterSettings clusterSettings = clusterService.getClusterSettings();
    clusterSettings.addSettingsUpdateConsumer(this::apply, RerankSettings.DYNAMIC,
        updated -> RerankSettings.channelSettings(updated, configDir, apiKey));
    return List.of();
  }

  @Override
  public List<Setting<?>> getSettings() {
    return RerankSettings.all();
  }

  @Override
  public List<RescorerSpec<?>> getRescorers() {
    return List.of(new RescorerSpec<>(GrpcRerankRescorerBuilder.NAME,
        in -> new GrpcRerankRescorerBuilder(in, this::reranker),
        parser -> GrpcRerankRescorerBuilder.fromXContent(parser, this::reranker)));
  }

  @Override
  public List<SearchExtSpec<?>> getSearchExts() {
    return List.of(new SearchExtSpec<>(GrpcRerankSearchExt.NAME, GrpcRerankSearchExt::new, GrpcRerankSearchExt::fromXContent));
  }

  @Override
  public Map<String, Processor.Factory<SearchRequestProcessor>> getRequestProcessors(Parameters parameters) {
    return Map.of(GrpcRerankRequestProcessor.TYPE, new GrpcRerankRequestProcessor.Factory(this::reranker));
  }

  @Override
  public Map<String, Processor.Factory<SearchResponseProcessor>> getResponseProcessors(Parameters parameters) {
    return Map.of(GrpcRerankResponseProcessor.TYPE,
        new GrpcRerankResponseProcessor.Factory(this::reranker, parameters.threadContext, parameters.genericExecutor));
  }

  @Override
  public List<RestHandler> getRestHandlers(Settings settings, RestController restController, ClusterSettings clusterSettings,
      IndexScopedSettings indexScopedSettings, SettingsFilter settingsFilter,
      IndexNameExpressionResolver indexNameExpressionResolver, Supplier<DiscoveryNodes> nodesInCluster) {
    return List.of(new RestGrpcRerankStatsAction(this::reranker));
  }

  /** Re-reads the API key from the keystore ({@code POST _nodes/reload_secure_settings}). */
  @Override
  public void reload(Settings settingsWithKeystore) {
    apiKey = RerankSettings.apiKey(settingsWithKeystore);
    apply(current);
  }

  @Override
  public void close() {
    reranker.close();
  }

  Reranker reranker() {
    return reranker;
  }

  private synchronized void apply(Settings settings) {
    current = settings;
    ChannelSettings next = RerankSettings.channelSettings(settings, configDir, apiKey);
    reranker.configure(next);
  }
}
