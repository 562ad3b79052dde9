package io.github.rerankservice.client;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the live tests find running servers, from environment variables. Without them the live
 * tests are skipped on a developer's machine and fail under CI (CI set), where a skip would hide
 * that they never ran; tests/integration/test_java_go_clients.py always sets them.
 */
final class LiveServer {
  private LiveServer() {}

  /** A plaintext server, RERANK_ADDR=host:port. */
  static String address() {
    return variable("RERANK_ADDR", "start a server and export RERANK_ADDR=host:port");
  }

  /**
   * The TLS and mutual-TLS servers and their PEM files: RERANK_TLS_ADDR (TLS, wants the key
   * RERANK_TLS_API_KEY), RERANK_MTLS_ADDR (wants a client certificate), RERANK_TLS_CA (signed
   * both servers' and the client's certificates), RERANK_TLS_CLIENT_CERT / RERANK_TLS_CLIENT_KEY
   * (PKCS#8), and RERANK_TLS_WRONG_CA with RERANK_TLS_WRONG_CLIENT_CERT / _KEY from another CA.
   */
  record Tls(
      String tlsAddress,
      String mutualTlsAddress,
      String apiKey,
      Path ca,
      Path clientCertificate,
      Path clientKey,
      Path wrongCa,
      Path wrongClientCertificate,
      Path wrongClientKey) {}

  static Tls tls() {
    String how = "run tests/integration/test_java_go_clients.py, which starts TLS servers and sets it";
    return new Tls(
        variable("RERANK_TLS_ADDR", how),
        variable("RERANK_MTLS_ADDR", how),
        variable("RERANK_TLS_API_KEY", how),
        Path.of(variable("RERANK_TLS_CA", how)),
        Path.of(variable("RERANK_TLS_CLIENT_CERT", how)),
        Path.of(variable("RERANK_TLS_CLIENT_KEY", how)),
        Path.of(variable("RERANK_TLS_WRONG_CA", how)),
        Path.of(variable("RERANK_TLS_WRONG_CLIENT_CERT", how)),
        Path.of(variable("RERANK_TLS_WRONG_CLIENT_KEY", how)));
  }

  private static String variable(String name, String how) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      String why = name + " is not set: " + how;
      if (System.getenv("CI") != null) {
        fail(why);
      }
      Assumptions.abort(why);
    }
    return value;
  }
}
