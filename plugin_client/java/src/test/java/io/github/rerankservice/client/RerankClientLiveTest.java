package io.github.rerankservice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The client against a real server (RERANK_ADDR), as a user would call it. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RerankClientLiveTest {
  private static final List<String> TEXTS =
      List.of(
          "The giant panda is a bear species endemic to China.",
          "Paris is the capital of France.",
          "Pandas eat bamboo.",
          "");

  private static RerankClient client;

  @BeforeAll
  static void connect() {
    client = RerankClient.builder(LiveServer.address()).defaultTimeout(Duration.ofSeconds(60)).build();
  }

  @AfterAll
  static void close() {
    if (client != null) {
      client.close();
    }
  }

  private static RerankQuery.Builder pandaQuery() {
    return RerankQuery.builder("what is a panda?").documents(TEXTS);
  }

  @Test
  void ranksEveryDocumentBestFirstWithScoresInUnitInterval() {
    Ranking ranking = client.rerank(pandaQuery().build());

    assertEquals(TEXTS.size(), ranking.results().size());
    assertEquals(
        List.of(0, 1, 2, 3),
        ranking.results().stream().map(ScoredDocument::index).sorted().toList());
    for (int i = 1; i < ranking.results().size(); i++) {
      assertTrue(ranking.results().get(i - 1).score() >= ranking.results().get(i).score());
    }
    ranking.results().forEach(r -> assertTrue(r.score() >= 0 && r.score() <= 1, r.toString()));
    assertEquals(TEXTS.size(), ranking.usage().pairs());
    assertFalse(ranking.model().isEmpty());
  }

  @Test
  void topNKeepsTheBestDocuments() {
    List<ScoredDocument> all = client.rerank(pandaQuery().build()).results();
    List<ScoredDocument> top = client.rerank(pandaQuery().topN(2).build()).results();

    assertSameRanking(all.subList(0, 2), top);
  }

  @Test
  void rawScoresAreTheLogitsOfTheDefaultScores() {
    List<ScoredDocument> sigmoid = byIndex(client.rerank(pandaQuery().build()).results());
    List<ScoredDocument> raw = byIndex(client.rerank(pandaQuery().rawScores(true).build()).results());

    for (int i = 0; i < TEXTS.size(); i++) {
      double expected = 1 / (1 + Math.exp(-raw.get(i).score()));
      assertEquals(expected, sigmoid.get(i).score(), 1e-4, "document " + i);
    }
  }

  @Test
  void returnTextEchoesEachDocumentsText() {
    for (ScoredDocument result : client.rerank(pandaQuery().returnText(true).build()).results()) {
      assertEquals(Optional.of(TEXTS.get(result.index())), result.text());
    }
    client.rerank(pandaQuery().build()).results().forEach(r -> assertEquals(Optional.empty(), r.text()));
  }

  @Test
  void idsAreEchoed() {
    RerankQuery query =
        RerankQuery.builder("what is a panda?")
            .document("doc-a", TEXTS.get(0))
            .document("doc-b", TEXTS.get(1))
            .build();

    for (ScoredDocument result : client.rerank(query).results()) {
      assertEquals(result.index() == 0 ? "doc-a" : "doc-b", result.id());
    }
  }

  @Test
  void getModelInfoDescribesTheDefaultModel() {
    ServerInfo info = client.getModelInfo();

    assertTrue(info.models().stream().anyMatch(m -> m.name().equals(info.defaultModel())), info.toString());
    assertTrue(info.limits().maxDocuments() > 0 && info.limits().batchSize() > 0, info.limits().toString());
    assertEquals(info.defaultModel(), client.rerank(pandaQuery().build()).model());
    ModelDescription model = client.getModelInfo(info.defaultModel(), Duration.ofSeconds(10)).models().get(0);
    assertTrue(model.defaultMaxLength() > 0 && model.defaultMaxLength() <= model.maxMaxLength());
  }

  @Test
  void emptyQueryIsInvalidArgument() {
    RerankException error =
        assertThrows(RerankException.class, () -> client.rerank(RerankQuery.of("", TEXTS)));

    assertEquals(Status.Code.INVALID_ARGUMENT, error.code());
    assertFalse(error.isRetryable());
    assertTrue(error.getMessage().startsWith("rerank.v1.Reranker/Rerank failed: INVALID_ARGUMENT: "), error.getMessage());
  }

  @Test
  void unknownModelIsNotFound() {
    RerankException error =
        assertThrows(
            RerankException.class,
            () -> client.rerank(pandaQuery().model("no-such-model").build()));

    assertEquals(Status.Code.NOT_FOUND, error.code());
    assertTrue(error.description().contains("no-such-model"), error.description());
  }

  @Test
  void tinyDeadlineIsDeadlineExceeded() {
    RerankException error =
        assertThrows(
            RerankException.class,
            () -> client.rerank(pandaQuery().build(), Duration.ofMillis(1)));

    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.code());
  }

  @Test
  void asyncCallGivesTheSameRankingAsTheBlockingOne() throws Exception {
    Ranking async = client.rerankAsync(pandaQuery().build()).get(60, TimeUnit.SECONDS);

    assertSameRanking(client.rerank(pandaQuery().build()).results(), async.results());
  }

  @Test
  void asyncFailureCompletesWithRerankException() {
    CompletionException error =
        assertThrows(
            CompletionException.class,
            () -> client.rerankAsync(pandaQuery().model("no-such-model").build()).join());

    assertEquals(Status.Code.NOT_FOUND, assertInstanceOf(RerankException.class, error.getCause()).code());
  }

  /** Same documents in the same order with the same scores (batching may move the last bits). */
  private static void assertSameRanking(List<ScoredDocument> expected, List<ScoredDocument> actual) {
    assertEquals(
        expected.stream().map(ScoredDocument::index).toList(),
        actual.stream().map(ScoredDocument::index).toList());
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i).score(), actual.get(i).score(), 1e-5);
    }
  }

  private static List<ScoredDocument> byIndex(List<ScoredDocument> results) {
    return results.stream().sorted(Comparator.comparingInt(ScoredDocument::index)).toList();
  }
}
