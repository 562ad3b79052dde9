package io.github.rerankservice.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.rest.RestRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrpcRerankPluginTest {
  @TempDir
  Path configDir;

  private static Settings withKey(String key) {
    return Settings.builder().put("rerank.model", "bge").setSecureSettings(new TestKeystore(Map.of("rerank.grpc.api_key", key))).build();
  }

  @Test
  void registersEverySettingAndTheRescorer() throws Exception {
    try (GrpcRerankPlugin plugin = new GrpcRerankPlugin(Settings.EMPTY, configDir)) {
      assertEquals(RerankSettings.all(), plugin.getSettings());
      assertEquals(List.of("grpc_rerank"), plugin.getRescorers().stream().map(spec -> spec.getName().getPreferredName()).toList());
    }
  }

  @Test
  void theNodesSettingsAndKeystoreMakeTheConnection() throws Exception {
    try (GrpcRerankPlugin plugin = new GrpcRerankPlugin(withKey("first"), configDir)) {
      assertEquals("first", plugin.reranker().settings().apiKey());
      assertEquals("bge", plugin.reranker().settings().defaultModel());
    }
  }

  @Test
  void reloadRereadsTheApiKeyAndKeepsTheOtherSettings() throws Exception {
    try (GrpcRerankPlugin plugin = new GrpcRerankPlugin(withKey("first"), configDir)) {
      plugin.reload(withKey("second"));
      assertEquals("second", plugin.reranker().settings().apiKey());
      assertEquals("bge", plugin.reranker().settings().defaultModel());

      plugin.reload(Settings.EMPTY); // the key removed from the keystore
      assertNull(plugin.reranker().settings().apiKey());
    }
  }

  @Test
  void statsAreServedAtOnePath() {
    RestGrpcRerankStatsAction action = new RestGrpcRerankStatsAction(() -> null);

    assertEquals(1, action.routes().size());
    assertEquals(RestRequest.Method.GET, action.routes().get(0).getMethod());
    assertEquals("/_grpc_rerank/stats", action.routes().get(0).getPath());
  }
}
