package io.github.rerankservice.plugin;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * A node's connection to the reranker, as its settings say.
 *
 * @param target a gRPC target: {@code host:port}, {@code dns:///host:port}, or {@code
 *     ipv4:a:port,b:port}; calls are spread over all resolved addresses (round_robin). Empty
 *     means "not configured": every call fails (and fails open by default)
 * @param caCertificate PEM certificate authorities to trust; enables TLS
 * @param clientCertificate PEM certificate chain for mutual TLS (with {@code clientKey})
 * @param clientKey PKCS#8 PEM private key of {@code clientCertificate}
 * @param authority the name to check the server's certificate against, instead of the target's
 * @param apiKey sent as {@code authorization: Bearer <apiKey>}; empty for none
 */
public record ChannelSettings(
    String target,
    boolean tls,
    Path caCertificate,
    Path clientCertificate,
    Path clientKey,
    String authority,
    String apiKey,
    Duration timeout,
    boolean failOpen,
    String defaultModel,
    int maxWindowSize) {

  public ChannelSettings {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(timeout, "timeout");
    if ((clientCertificate == null) != (clientKey == null)) {
      throw new IllegalArgumentException(
          "a client certificate and its key go together: set both or neither");
    }
  }

  /** Whether {@code other} needs a new channel (anything but the per-call defaults changed). */
  public boolean sameConnection(ChannelSettings other) {
    return other != null
        && target.equals(other.target)
        && tls == other.tls
        && Objects.equals(caCertificate, other.caCertificate)
        && Objects.equals(clientCertificate, other.clientCertificate)
        && Objects.equals(clientKey, other.clientKey)
        && Objects.equals(authority, other.authority)
        && Objects.equals(apiKey, other.apiKey);
  }

  /** For logs: the connection without its secret. */
  public String describe() {
    return "target [" + target + "]" + (tls ? ", TLS" : "") + (clientCertificate != null ? ", mTLS" : "")
        + (apiKey != null && !apiKey.isEmpty() ? ", API key" : "");
  }
}
