package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.ChannelSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.elasticsearch.common.settings.SecureSetting;
import org.elasticsearch.common.settings.SecureString;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Setting.Property;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.core.TimeValue;

/**
 * The node settings of the plugin, the same as the OpenSearch plugin's. All but the API key are
 * dynamic (cluster settings API); the API key is a secure setting in the Elasticsearch keystore,
 * re-read by {@code POST _nodes/reload_secure_settings}. Paths are relative to the node's config
 * directory.
 */
final class RerankSettings {
  /** host:port, or a gRPC target with a scheme (dns:///, ipv4:, ipv6:, unix:). */
  private static final Pattern TARGET = Pattern.compile("|[a-z][a-z0-9+.-]*:.+|[^:/\\s]+:\\d+|\\[[0-9a-fA-F:]+\\]:\\d+");

  static final Setting<String> TARGET_SETTING = Setting.simpleString("rerank.grpc.target", "",
      RerankSettings::validateTarget, Property.NodeScope, Property.Dynamic);
  static final Setting<TimeValue> TIMEOUT = Setting.positiveTimeSetting("rerank.grpc.timeout",
      TimeValue.timeValueSeconds(1), Property.NodeScope, Property.Dynamic);
  static final Setting<Boolean> FAIL_OPEN = Setting.boolSetting("rerank.fail_open", true,
      Property.NodeScope, Property.Dynamic);
  static final Setting<Boolean> TLS_ENABLED = Setting.boolSetting("rerank.grpc.tls.enabled", false,
      Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_CA = Setting.simpleString("rerank.grpc.tls.certificate_authorities",
      Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_CERTIFICATE = Setting.simpleString("rerank.grpc.tls.certificate",
      Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_KEY = Setting.simpleString("rerank.grpc.tls.key",
      Property.NodeScope, Property.Dynamic);
  static final Setting<String> TLS_SERVER_NAME = Setting.simpleString("rerank.grpc.tls.server_name",
      Property.NodeScope, Property.Dynamic);
  static final Setting<SecureString> API_KEY = SecureSetting.secureString("rerank.grpc.api_key", null);
  static final Setting<String> MODEL = Setting.simpleString("rerank.model", Property.NodeScope, Property.Dynamic);
  static final Setting<Integer> MAX_WINDOW_SIZE = Setting.intSetting("rerank.max_window_size", 500, 1,
      Property.NodeScope, Property.Dynamic);

  /** The dynamic settings; a change to any of them re-reads them all. */
  static final List<Setting<?>> DYNAMIC = List.of(TARGET_SETTING, TIMEOUT, FAIL_OPEN, TLS_ENABLED, TLS_CA,
      TLS_CERTIFICATE, TLS_KEY, TLS_SERVER_NAME, MODEL, MAX_WINDOW_SIZE);

  private RerankSettings() {}

  static List<Setting<?>> all() {
    return Stream.concat(DYNAMIC.stream(), Stream.of(API_KEY)).toList();
  }

  /**
   * The connection {@code settings} describe, with {@code apiKey} from the keystore.
   *
   * @throws IllegalArgumentException naming the setting to fix
   */
  static ChannelSettings channelSettings(Settings settings, Path configDir, String apiKey) {
    Path ca = path(settings, TLS_CA, configDir);
    Path certificate = path(settings, TLS_CERTIFICATE, configDir);
    Path key = path(settings, TLS_KEY, configDir);
    if ((certificate == null) != (key == null)) {
      throw new IllegalArgumentException(
          "set both " + TLS_CERTIFICATE.getKey() + " and " + TLS_KEY.getKey() + " (mutual TLS), or neither");
    }
    return new ChannelSettings(
        TARGET_SETTING.get(settings).trim(),
        TLS_ENABLED.get(settings) || ca != null || certificate != null,
        ca,
        certificate,
        key,
        emptyToNull(TLS_SERVER_NAME.get(settings)),
        apiKey,
        Duration.ofMillis(TIMEOUT.get(settings).millis()),
        FAIL_OPEN.get(settings),
        emptyToNull(MODEL.get(settings)),
        MAX_WINDOW_SIZE.get(settings));
  }

  /** The API key in the keystore {@code settings} hold, or null. */
  static String apiKey(Settings settings) {
    if (!API_KEY.exists(settings)) {
      return null;
    }
    try (SecureString key = API_KEY.get(settings)) {
      return key.toString();
    }
  }

  private static void validateTarget(String target) {
    if (!TARGET.matcher(target.trim()).matches()) {
      throw new IllegalArgumentException("rerank.grpc.target must be host:port or a gRPC target such as "
          + "dns:///reranker:50051 or ipv4:127.0.0.1:50051,127.0.0.1:50052, got [" + target + "]");
    }
  }

  private static Path path(Settings settings, Setting<String> setting, Path configDir) {
    String value = setting.get(settings).trim();
    if (value.isEmpty()) {
      return null;
    }
    Path path = configDir.resolve(value).normalize();
    if (!readable(path)) {
      throw new IllegalArgumentException(setting.getKey() + " names [" + path + "], which the node cannot read; "
          + "put the PEM file in the node's config directory");
    }
    return path;
  }

  /** Whether the plugin may read {@code path}: Entitlements let it read the config directory only. */
  private static boolean readable(Path path) {
    try {
      return Files.isReadable(path);
    } catch (SecurityException notEntitled) {
      return false;
    }
  }

  private static String emptyToNull(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }
}
