package io.github.rerankservice.client;

import io.github.rerankservice.rerank.v1.RerankerGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Configures a {@link RerankClient}: transport security, metadata sent with every call, and the
 * default deadline. Plaintext unless {@link #useTls()}, {@link #trustCertificates(Path)} or
 * {@link #clientCertificate(Path, Path)} is called.
 */
public final class RerankClientBuilder {
  /**
   * Calls are spread over every address the target resolves to (round_robin: a DNS name of
   * several replicas, or {@code ipv4:a:port,b:port}); one address behaves as pick_first. gRPC
   * retries calls that failed with UNAVAILABLE (never reached a ready server) with backoff, like
   * the Python client; every other status is the caller's to handle.
   */
  private static final Map<String, ?> SERVICE_CONFIG =
      Map.of(
          "loadBalancingConfig", List.of(Map.of("round_robin", Map.of())),
          "methodConfig",
          List.of(
              Map.of(
                  "name", List.of(Map.of("service", RerankerGrpc.SERVICE_NAME)),
                  "retryPolicy",
                      Map.of(
                          "maxAttempts", 3.0,
                          "initialBackoff", "0.1s",
                          "maxBackoff", "1s",
                          "backoffMultiplier", 2.0,
                          "retryableStatusCodes", List.of("UNAVAILABLE")))));

  private final String target;
  private final Metadata headers = new Metadata();
  private Duration defaultTimeout = RerankClient.DEFAULT_TIMEOUT;
  private boolean tls;
  private Path trustCertificates;
  private Path certificateChain;
  private Path privateKey;
  private String authority;

  RerankClientBuilder(String target) {
    this.target = Objects.requireNonNull(target, "target");
  }

  /** Uses TLS, trusting the JDK's default certificate authorities. */
  public RerankClientBuilder useTls() {
    this.tls = true;
    return this;
  }

  /** Uses TLS, trusting the PEM certificate authorities in {@code caPem}. */
  public RerankClientBuilder trustCertificates(Path caPem) {
    this.trustCertificates = Objects.requireNonNull(caPem, "caPem");
    return useTls();
  }

  /** Uses mutual TLS, presenting the PEM certificate chain and its PKCS#8 PEM private key. */
  public RerankClientBuilder clientCertificate(Path certificateChainPem, Path privateKeyPem) {
    this.certificateChain = Objects.requireNonNull(certificateChainPem, "certificateChainPem");
    this.privateKey = Objects.requireNonNull(privateKeyPem, "privateKeyPem");
    return useTls();
  }

  /** Checks the server's certificate against this name instead of the target's host. */
  public RerankClientBuilder authority(String authority) {
    this.authority = Objects.requireNonNull(authority, "authority");
    return this;
  }

  /** Sends {@code authorization: Bearer <apiKey>} with every call. */
  public RerankClientBuilder apiKey(String apiKey) {
    return header("authorization", "Bearer " + Objects.requireNonNull(apiKey, "apiKey"));
  }

  /** Sends an ASCII metadata entry with every call; names are lower-case by gRPC's rules. */
  public RerankClientBuilder header(String name, String value) {
    headers.put(
        Metadata.Key.of(Objects.requireNonNull(name, "name"), Metadata.ASCII_STRING_MARSHALLER),
        Objects.requireNonNull(value, "value"));
    return this;
  }

  /** The deadline of calls that pass none; {@link RerankClient#DEFAULT_TIMEOUT} unless set. */
  public RerankClientBuilder defaultTimeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("defaultTimeout must be positive, got " + timeout);
    }
    this.defaultTimeout = timeout;
    return this;
  }

  /**
   * Creates the client. The channel connects lazily, so an unreachable server shows up as
   * UNAVAILABLE on the first call, not here.
   *
   * @throws UncheckedIOException when a certificate or key file cannot be read
   */
  public RerankClient build() {
    return build(Grpc.newChannelBuilder(target, credentials()));
  }

  /** Creates the client over a channel builder of the caller's (tests use an in-process one). */
  RerankClient build(ManagedChannelBuilder<?> channel) {
    Metadata sentHeaders = new Metadata();
    sentHeaders.merge(headers); // later header() calls on this builder must not change the client
    channel
        .defaultServiceConfig(SERVICE_CONFIG)
        .enableRetry()
        .intercept(MetadataUtils.newAttachHeadersInterceptor(sentHeaders));
    if (authority != null) {
      channel.overrideAuthority(authority);
    }
    return new RerankClient(channel.build(), defaultTimeout);
  }

  private ChannelCredentials credentials() {
    if (!tls) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
    try {
      if (trustCertificates != null) {
        credentials.trustManager(trustCertificates.toFile());
      }
      if (certificateChain != null) {
        credentials.keyManager(certificateChain.toFile(), privateKey.toFile());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read the TLS certificates or key (" + trustCertificates + ", "
              + certificateChain + ", " + privateKey + "): " + e.getMessage(), e);
    }
    return credentials.build();
  }
}
