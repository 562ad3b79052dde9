package io.github.rerankservice.plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.AccessController;
import java.security.PrivilegedAction;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The node settings every engine's plugin declares, by name, and how their raw values become a
 * {@link ChannelSettings}. Each adapter declares them in its engine's settings API and hands the
 * values here, so the rules and the messages are written once.
 */
public final class NodeSettings {
  public static final String TARGET = "rerank.grpc.target";
  public static final String TIMEOUT = "rerank.grpc.timeout";
  public static final String FAIL_OPEN = "rerank.fail_open";
  public static final String TLS_ENABLED = "rerank.grpc.tls.enabled";
  public static final String TLS_CA = "rerank.grpc.tls.certificate_authorities";
  public static final String TLS_CERTIFICATE = "rerank.grpc.tls.certificate";
  public static final String TLS_KEY = "rerank.grpc.tls.key";
  public static final String TLS_SERVER_NAME = "rerank.grpc.tls.server_name";
  public static final String API_KEY = "rerank.grpc.api_key";
  public static final String MODEL = "rerank.model";
  public static final String MAX_WINDOW_SIZE = "rerank.max_window_size";
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  public static final int DEFAULT_MAX_WINDOW_SIZE = 500;

  /** host:port, or a gRPC target with a scheme (dns:///, ipv4:, ipv6:, unix:). */
  private static final Pattern TARGET_SYNTAX =
      Pattern.compile("|[a-z][a-z0-9+.-]*:.+|[^:/\\s]+:\\d+|\\[[0-9a-fA-F:]+\\]:\\d+");

  /** The raw values of the settings, as the engine read them (strings untrimmed, "" for unset). */
  public record Values(String target, Duration timeout, boolean failOpen, boolean tlsEnabled, String tlsCa,
      String tlsCertificate, String tlsKey, String tlsServerName, String model, int maxWindowSize) {}

  private NodeSettings() {}

  /** Refuses a {@value #TARGET} that is neither host:port nor a gRPC target. */
  public static void checkTarget(String target) {
    if (!TARGET_SYNTAX.matcher(target.trim()).matches()) {
      throw new IllegalArgumentException(TARGET + " must be host:port or a gRPC target such as "
          + "dns:///reranker:50051 or ipv4:127.0.0.1:50051,127.0.0.1:50052, got [" + target + "]");
    }
  }

  /**
   * The connection {@code values} describe, with {@code apiKey} from the keystore; PEM paths are
   * relative to {@code configDir} and must be readable.
   *
   * @throws IllegalArgumentException naming the setting to fix
   */
  public static ChannelSettings channelSettings(Values values, Path configDir, String apiKey) {
    checkTarget(values.target());
    Path ca = pemFile(TLS_CA, values.tlsCa(), configDir);
    Path certificate = pemFile(TLS_CERTIFICATE, values.tlsCertificate(), configDir);
    Path key = pemFile(TLS_KEY, values.tlsKey(), configDir);
    if ((certificate == null) != (key == null)) {
      throw new IllegalArgumentException("set both " + TLS_CERTIFICATE + " and " + TLS_KEY + " (mutual TLS), or neither");
    }
    return new ChannelSettings(
        values.target().trim(),
        values.tlsEnabled() || ca != null || certificate != null,
        ca,
        certificate,
        key,
        blankToNull(values.tlsServerName()),
        apiKey,
        values.timeout(),
        values.failOpen(),
        blankToNull(values.model()),
        values.maxWindowSize());
  }

  /** Refuses a window larger than the node allows, naming the setting. */
  public static void checkWindowSize(int windowSize, ChannelSettings settings) {
    if (windowSize > settings.maxWindowSize()) {
      throw new IllegalArgumentException("[grpc_rerank] window_size is " + windowSize + " but this node allows at most "
          + settings.maxWindowSize() + " (" + MAX_WINDOW_SIZE + ")");
    }
  }

  private static Path pemFile(String setting, String value, Path configDir) {
    if (value == null || value.isBlank()) {
      return null;
    }
    Path path = configDir.resolve(value.trim()).normalize();
    if (!readable(path)) {
      throw new IllegalArgumentException(setting + " names [" + path + "], which the node cannot read; "
          + "put the PEM file in the node's config directory");
    }
    return path;
  }

  /** Whether the plugin may read {@code path} (a security manager or entitlements may say no). */
  @SuppressWarnings("removal")
  private static boolean readable(Path path) {
    try {
      return AccessController.doPrivileged((PrivilegedAction<Boolean>) () -> Files.isReadable(path));
    } catch (SecurityException notAllowed) {
      return false;
    }
  }

  private static String blankToNull(String value) {
    return value == null || value.isBlank() ? null : value.trim();
  }
}
