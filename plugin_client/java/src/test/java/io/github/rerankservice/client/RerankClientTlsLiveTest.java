package io.github.rerankservice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client against real servers with TLS (and an API key) and with mutual TLS, and refused
 * where the certificates do not match (LiveServer.tls()).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RerankClientTlsLiveTest {
  private static final RerankQuery QUERY =
      RerankQuery.of("what is a panda?", List.of("The giant panda is a bear.", "Paris is in France."));

  private static LiveServer.Tls servers;

  @BeforeAll
  static void findServers() {
    servers = LiveServer.tls();
  }

  private static RerankClientBuilder builder(String address) {
    return RerankClient.builder(address).defaultTimeout(Duration.ofSeconds(60));
  }

  private static void assertRanksBoth(RerankClientBuilder builder) {
    try (RerankClient client = builder.build()) {
      assertEquals(2, client.rerank(QUERY).results().size());
    }
  }

  private static RerankException assertRefused(RerankClientBuilder builder, Status.Code code) {
    try (RerankClient client = builder.defaultTimeout(Duration.ofSeconds(20)).build()) {
      RerankException error = assertThrows(RerankException.class, () -> client.rerank(QUERY));
      assertEquals(code, error.code(), error.getMessage());
      return error;
    }
  }

  @Test
  void tlsServerAnswersAClientThatTrustsItsCaAndSendsTheKey() {
    assertRanksBoth(builder(servers.tlsAddress()).trustCertificates(servers.ca()).apiKey(servers.apiKey()));
  }

  @Test
  void tlsServerWantsTheKeyEvenOverTls() {
    RerankException error =
        assertRefused(builder(servers.tlsAddress()).trustCertificates(servers.ca()), Status.Code.UNAUTHENTICATED);
    assertTrue(error.description().contains("needs an API key"), error.description());
  }

  @Test
  void clientThatTrustsAnotherCaRefusesTheServer() {
    assertRefused(
        builder(servers.tlsAddress()).trustCertificates(servers.wrongCa()).apiKey(servers.apiKey()),
        Status.Code.UNAVAILABLE);
  }

  @Test
  void plaintextClientCannotTalkToATlsServer() {
    assertRefused(builder(servers.tlsAddress()).apiKey(servers.apiKey()), Status.Code.UNAVAILABLE);
  }

  @Test
  void mutualTlsServerAnswersAClientWithACertificateFromItsCa() {
    assertRanksBoth(
        builder(servers.mutualTlsAddress())
            .trustCertificates(servers.ca())
            .clientCertificate(servers.clientCertificate(), servers.clientKey()));
  }

  @Test
  void mutualTlsServerRefusesAClientWithoutACertificate() {
    assertRefused(builder(servers.mutualTlsAddress()).trustCertificates(servers.ca()), Status.Code.UNAVAILABLE);
  }

  @Test
  void mutualTlsServerRefusesACertificateFromAnotherCa() {
    assertRefused(
        builder(servers.mutualTlsAddress())
            .trustCertificates(servers.ca())
            .clientCertificate(servers.wrongClientCertificate(), servers.wrongClientKey()),
        Status.Code.UNAVAILABLE);
  }
}
