package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.ChannelSettings;
import io.github.rerankservice.plugin.Reranker;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.ReloadablePlugin;
import org.elasticsearch.plugins.SearchPlugin;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;

/**
 * Reranks Elasticsearch hits with the rerank gRPC service: the {@code grpc_rerank} rescorer (per
 * shard) and {@code GET _grpc_rerank/stats}. One connection per node, made at start and closed at
 * stop. The engine-independent logic (options, passages, score bands, the channel, fail-open,
 * counters) is rerank-plugin-core's, shared with the OpenSearch plugin.
 */
public class GrpcRerankPlugin extends Plugin implements SearchPlugin, ActionPlugin, ReloadablePlugin {
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
  public Collection<?> createComponents(PluginServices services) {
    ClusterSettings clusterSettings = services.clusterService().getClusterSettings();
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
  public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry namedWriteableRegistry,
      RestController restController, ClusterSettings clusterSettings, IndexScopedSettings indexScopedSettings,
      SettingsFilter settingsFilter, IndexNameExpressionResolver indexNameExpressionResolver,
      Supplier<DiscoveryNodes> nodesInCluster, Predicate<NodeFeature> clusterSupportsFeature) {
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
