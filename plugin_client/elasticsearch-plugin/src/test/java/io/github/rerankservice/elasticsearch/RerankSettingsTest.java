package io.github.rerankservice.elasticsearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.plugin.ChannelSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.elasticsearch.common.settings.Settings;

class RerankSettingsTest {
  @TempDir
  Path configDir;

  private ChannelSettings channel(Settings settings) {
    return RerankSettings.channelSettings(settings, configDir, null);
  }

  private Path pem(String name) throws IOException {
    return Files.writeString(configDir.resolve(name), "-----BEGIN CERTIFICATE-----\n");
  }

  @Test
  void defaults() {
    ChannelSettings settings = channel(Settings.EMPTY);

    assertEquals("", settings.target());
    assertFalse(settings.tls());
    assertNull(settings.caCertificate());
    assertNull(settings.authority());
    assertEquals(Duration.ofSeconds(1), settings.timeout());
    assertTrue(settings.failOpen());
    assertNull(settings.defaultModel());
    assertEquals(500, settings.maxWindowSize());
  }

  @Test
  void everySettingIsRead() {
    ChannelSettings settings = channel(Settings.builder()
        .put("rerank.grpc.target", " dns:///reranker:50051 ")
        .put("rerank.grpc.timeout", "250ms")
        .put("rerank.fail_open", false)
        .put("rerank.grpc.tls.enabled", true)
        .put("rerank.grpc.tls.server_name", "reranker.internal")
        .put("rerank.model", "bge")
        .put("rerank.max_window_size", 80)
        .build());

    assertEquals("dns:///reranker:50051", settings.target());
    assertEquals(Duration.ofMillis(250), settings.timeout());
    assertFalse(settings.failOpen());
    assertTrue(settings.tls());
    assertEquals("reranker.internal", settings.authority());
    assertEquals("bge", settings.defaultModel());
    assertEquals(80, settings.maxWindowSize());
  }

  @Test
  void caCertificateImpliesTls() throws IOException {
    Path ca = pem("ca.pem");

    ChannelSettings settings = channel(Settings.builder().put("rerank.grpc.tls.certificate_authorities", "ca.pem").build());

    assertTrue(settings.tls());
    assertEquals(ca, settings.caCertificate());
  }

  @Test
  void clientCertificateAndKeyImplyMutualTls() throws IOException {
    pem("client.pem");
    pem("client.key");

    ChannelSettings settings = channel(Settings.builder()
        .put("rerank.grpc.tls.certificate", "client.pem")
        .put("rerank.grpc.tls.key", "client.key")
        .build());

    assertTrue(settings.tls());
    assertEquals(configDir.resolve("client.pem"), settings.clientCertificate());
    assertEquals(configDir.resolve("client.key"), settings.clientKey());
    assertTrue(settings.describe().contains("mTLS"));
  }

  @Test
  void absolutePathsAreKept() throws IOException {
    Path elsewhere = Files.createTempFile("ca", ".pem");
    try {
      ChannelSettings settings = channel(Settings.builder()
          .put("rerank.grpc.tls.certificate_authorities", elsewhere.toString()).build());

      assertEquals(elsewhere, settings.caCertificate());
    } finally {
      Files.delete(elsewhere);
    }
  }

  @Test
  void certificateWithoutKeyIsRefused() throws IOException {
    pem("client.pem");
    Settings settings = Settings.builder().put("rerank.grpc.tls.certificate", "client.pem").build();

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> channel(settings));

    assertEquals("set both rerank.grpc.tls.certificate and rerank.grpc.tls.key (mutual TLS), or neither", error.getMessage());
  }

  @Test
  void keyWithoutCertificateIsRefused() throws IOException {
    pem("client.key");
    Settings settings = Settings.builder().put("rerank.grpc.tls.key", "client.key").build();

    assertThrows(IllegalArgumentException.class, () -> channel(settings));
  }

  @ParameterizedTest
  @ValueSource(strings = {"rerank.grpc.tls.certificate_authorities", "rerank.grpc.tls.certificate", "rerank.grpc.tls.key"})
  void unreadablePathIsRefusedNamingTheSetting(String setting) {
    Settings settings = Settings.builder().put(setting, "missing.pem").build();

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> channel(settings));

    assertEquals(setting + " names [" + configDir.resolve("missing.pem") + "], which the node cannot read; "
        + "put the PEM file in the node's config directory", error.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"reranker:50051", "127.0.0.1:50051", "dns:///reranker:50051", "dns:///x:1",
      "ipv4:127.0.0.1:50051,127.0.0.1:50052", "ipv4:a:1,b:2", "[::1]:50051", "ipv6:[::1]:50051", "unix:///tmp/rerank.sock", ""})
  void targetAcceptsHostPortAndGrpcTargets(String target) {
    assertEquals(target, channel(Settings.builder().put("rerank.grpc.target", target).build()).target());
  }

  @ParameterizedTest
  @ValueSource(strings = {"nonsense", "localhost", ":50051", "reranker:", "reranker 50051", "/tmp/socket"})
  void targetRefusesWhatIsNotOneNamingTheSetting(String target) {
    Settings settings = Settings.builder().put("rerank.grpc.target", target).build();

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> channel(settings));

    assertEquals("rerank.grpc.target must be host:port or a gRPC target such as dns:///reranker:50051 or "
        + "ipv4:127.0.0.1:50051,127.0.0.1:50052, got [" + target + "]", error.getMessage());
  }

  @Test
  void apiKeyComesFromTheKeystore() {
    Settings settings = Settings.builder().setSecureSettings(new TestKeystore(Map.of("rerank.grpc.api_key", "s3cret"))).build();

    assertEquals("s3cret", RerankSettings.apiKey(settings));
    assertEquals("s3cret", RerankSettings.channelSettings(settings, configDir, RerankSettings.apiKey(settings)).apiKey());
  }

  @Test
  void apiKeyIsNullWithoutOne() {
    assertNull(RerankSettings.apiKey(Settings.EMPTY));
  }

  @Test
  void everySettingIsRegisteredAndOnlyTheApiKeyIsStatic() {
    assertEquals(RerankSettings.DYNAMIC.size() + 1, RerankSettings.all().size());
    assertTrue(RerankSettings.all().contains(RerankSettings.API_KEY));
    assertTrue(RerankSettings.DYNAMIC.stream().allMatch(setting -> setting.isDynamic()));
    assertTrue(RerankSettings.API_KEY.getKey().equals("rerank.grpc.api_key"));
  }

  @Test
  void dynamicSettingsAreNodeScopedAndTheApiKeyIsSecure() {
    assertTrue(RerankSettings.DYNAMIC.stream().allMatch(setting -> setting.hasNodeScope()));
    assertTrue(RerankSettings.API_KEY instanceof org.elasticsearch.common.settings.SecureSetting<?>);
    assertFalse(RerankSettings.API_KEY.isDynamic());
  }

  @Test
  void updatedSettingsAreValidatedBeforeTheyApply() {
    // What the node's cluster settings validator runs on PUT _cluster/settings: a 400 names the setting.
    Settings update = Settings.builder().put("rerank.grpc.target", "reranker:50051").put("rerank.grpc.timeout", "soon").build();

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> channel(update));

    assertTrue(error.getMessage().contains("rerank.grpc.timeout"), error.getMessage());
  }
}
