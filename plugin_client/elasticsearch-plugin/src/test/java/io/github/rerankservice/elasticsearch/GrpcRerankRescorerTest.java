package io.github.rerankservice.elasticsearch;

import io.github.rerankservice.plugin.FakeRerankServer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.plugin.RerankFailure;
import io.github.rerankservice.plugin.RerankOptions;
import io.github.rerankservice.plugin.Reranker;
import io.github.rerankservice.plugin.ShardBand;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.search.Explanation;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.TotalHits;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;
import org.elasticsearch.ElasticsearchStatusException;
import org.elasticsearch.common.logging.HeaderWarning;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.util.concurrent.ThreadContext;
import org.elasticsearch.rest.RestStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The rescorer on one shard of six documents a..f (doc ids 0..5), searched with scores 6..1, and
 * a fake reranker that scores passage i with (i + 1) / 10, reversing the order it is given.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcRerankRescorerTest {
  private static final float[] SEARCH_SCORES = {6, 5, 4, 3, 2, 1};

  private final ThreadContext threadContext = new ThreadContext(Settings.EMPTY);
  private FakeRerankServer server;
  private Reranker reranker;
  private Directory directory;
  private DirectoryReader reader;
  private IndexSearcher searcher;

  @BeforeEach
  void start() throws IOException {
    server = new FakeRerankServer();
    reranker = TestRerankers.reranker(server.target(), true, 100);
    directory = new ByteBuffersDirectory();
    try (IndexWriter writer = new IndexWriter(directory, new IndexWriterConfig())) {
      for (char id = 'a'; id <= 'f'; id++) {
        Document document = new Document();
        // Keys out of alphabetical order: an object's passage text keeps its stored order.
        String source = "{\"title\": \"title " + id + "\", \"meta\": {\"z\": 1, \"a\": \"" + id + "\"}}";
        document.add(new StoredField("_source", new BytesRef(source.getBytes(StandardCharsets.UTF_8))));
        writer.addDocument(document);
      }
    }
    reader = DirectoryReader.open(directory);
    searcher = new IndexSearcher(reader);
    HeaderWarning.setThreadContext(threadContext);
  }

  @AfterEach
  void stop() throws Exception {
    HeaderWarning.removeThreadContext(threadContext);
    reranker.close();
    server.close();
    reader.close();
    directory.close();
  }

  private static TopDocs searchHits() {
    ScoreDoc[] hits = new ScoreDoc[SEARCH_SCORES.length];
    for (int doc = 0; doc < hits.length; doc++) {
      hits[doc] = new ScoreDoc(doc, SEARCH_SCORES[doc]);
    }
    return new TopDocs(new TotalHits(hits.length, TotalHits.Relation.EQUAL_TO), hits);
  }

  private GrpcRerankRescorer.Context context(int window, Object... keyValues) {
    Map<String, Object> config = new HashMap<>();
    config.put("query_text", "panda");
    config.put("document_fields", List.of("title"));
    for (int i = 0; i < keyValues.length; i += 2) {
      config.put((String) keyValues[i], keyValues[i + 1]);
    }
    return new GrpcRerankRescorer.Context(window, RerankOptions.parse(config, RerankOptions.Usage.RESCORER), reranker, null);
  }

  private static int[] docs(TopDocs topDocs) {
    return Arrays.stream(topDocs.scoreDocs).mapToInt(hit -> hit.doc).toArray();
  }

  private static float[] scores(TopDocs topDocs) {
    float[] scores = new float[topDocs.scoreDocs.length];
    for (int i = 0; i < scores.length; i++) {
      scores[i] = topDocs.scoreDocs[i].score;
    }
    return scores;
  }

  private List<String> warnings() {
    return threadContext.getResponseHeaders().getOrDefault("Warning", List.of());
  }

  @Test
  void windowHitsTakeTheRerankScoresAboveEveryOtherHit() throws IOException {
    TopDocs rescored = GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context(3));

    assertArrayEquals(new int[] {2, 1, 0, 3, 4, 5}, docs(rescored));
    assertArrayEquals(new float[] {0.3f, 0.2f, 0.1f, ShardBand.outside(3), ShardBand.outside(2), ShardBand.outside(1)},
        scores(rescored));
    assertEquals(List.of("title a", "title b", "title c"), server.received.get(0).getDocumentsList().stream()
        .map(document -> document.getText()).toList());
    assertEquals("panda", server.received.get(0).getQuery());
    assertEquals(6, rescored.totalHits.value);
    assertTrue(warnings().isEmpty(), warnings().toString());
  }

  @Test
  void anObjectFieldIsItsJsonInStoredKeyOrder() throws IOException {
    GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context(1, "document_fields", List.of("meta", "title")));

    assertEquals("{\"z\":1,\"a\":\"a\"}\ntitle a", server.received.get(0).getDocuments(0).getText());
  }

  @Test
  void aWindowWiderThanTheHitsReranksThemAll() throws IOException {
    TopDocs rescored = GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context(50));

    assertArrayEquals(new int[] {5, 4, 3, 2, 1, 0}, docs(rescored));
    assertEquals(6, server.received.get(0).getDocumentsCount());
  }

  @Test
  void combineWeighsTheSearchAndRerankScores() throws IOException {
    TopDocs rescored = GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher,
        context(2, "mode", "combine", "query_weight", 0.5, "rerank_weight", 10.0));

    // a: 0.5 * 6 + 10 * 0.1 = 4; b: 0.5 * 5 + 10 * 0.2 = 4.5
    assertArrayEquals(new int[] {1, 0, 2, 3, 4, 5}, docs(rescored));
    assertEquals(4.5f, rescored.scoreDocs[0].score, 1e-6);
    assertEquals(4.0f, rescored.scoreDocs[1].score, 1e-6);
  }

  @Test
  void noHitsAreReturnedAsTheyCame() throws IOException {
    TopDocs none = new TopDocs(new TotalHits(0, TotalHits.Relation.EQUAL_TO), new ScoreDoc[0]);

    assertSame(none, GrpcRerankRescorer.INSTANCE.rescore(none, searcher, context(10)));
    assertTrue(server.received.isEmpty());
  }

  @Test
  void failingOpenKeepsTheShardsOrderBelowTheWindowsWithAWarningAndACounter() throws IOException {
    server.failWith = Status.UNAVAILABLE.withDescription("down for maintenance");

    TopDocs rescored = GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context(3));

    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, docs(rescored));
    for (ScoreDoc hit : rescored.scoreDocs) {
      assertEquals(ShardBand.outside(SEARCH_SCORES[hit.doc]), hit.score);
    }
    assertEquals(1, warnings().size(), warnings().toString());
    assertTrue(warnings().get(0).contains("grpc_rerank failed open: grpc_rerank: the reranker at [" + server.target()
        + "] answered UNAVAILABLE: down for maintenance"), warnings().get(0));
    assertEquals(1L, reranker.stats().snapshot().get("failed_open"));
  }

  @Test
  void failingClosedFailsTheShardNamingTheRerankerAndTheCause() {
    server.failWith = Status.UNAVAILABLE.withDescription("down for maintenance");

    ElasticsearchStatusException error = assertThrows(ElasticsearchStatusException.class,
        () -> GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context(3, "fail_open", false)));

    assertEquals(RestStatus.SERVICE_UNAVAILABLE, error.status());
    assertEquals("grpc_rerank: the reranker at [" + server.target() + "] answered UNAVAILABLE: down for maintenance",
        error.getMessage());
    assertTrue(warnings().isEmpty(), warnings().toString());
    assertEquals(0L, reranker.stats().snapshot().get("failed_open"));
  }

  @Test
  void aRefusingRerankerFailsClosedWith400() {
    server.failWith = Status.NOT_FOUND.withDescription("no model [x]");

    ElasticsearchStatusException error = assertThrows(ElasticsearchStatusException.class,
        () -> GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context(3, "fail_open", false)));

    assertEquals(RestStatus.BAD_REQUEST, error.status());
  }

  @Test
  void aLateRerankerFailsOpenWithinTheTimeout() throws IOException {
    server.hang = true;
    long start = System.nanoTime();

    TopDocs rescored = GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context(3, "timeout", "200ms"));

    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5));
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, docs(rescored));
    assertTrue(warnings().get(0).contains("did not answer within 200ms"), warnings().get(0));
  }

  @ParameterizedTest
  @EnumSource(RerankFailure.Kind.class)
  void everyFailureKindHasAnHttpStatus(RerankFailure.Kind kind) {
    RestStatus status = RestStatus.fromCode(new RerankFailure(kind, "m", null).httpStatus());

    assertEquals(switch (kind) {
      case TIMEOUT -> RestStatus.GATEWAY_TIMEOUT;
      case REFUSED -> RestStatus.BAD_REQUEST;
      case NOT_CONFIGURED, UNAVAILABLE -> RestStatus.SERVICE_UNAVAILABLE;
      case FAILED -> RestStatus.BAD_GATEWAY;
    }, status);
  }

  @Test
  void explainSaysWhichBandAHitIsIn() throws IOException {
    GrpcRerankRescorer.Context context = context(1);
    GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context);

    Explanation reranked = GrpcRerankRescorer.INSTANCE.explain(0, searcher, context, Explanation.match(6f, "bm25"));
    Explanation outside = GrpcRerankRescorer.INSTANCE.explain(1, searcher, context, Explanation.match(5f, "bm25"));

    assertEquals(0.1f, reranked.getValue().floatValue());
    assertTrue(reranked.getDescription().contains("reranked score (replace)"), reranked.getDescription());
    assertEquals(ShardBand.outside(5f), outside.getValue().floatValue());
    assertTrue(outside.getDescription().contains("not reranked"), outside.getDescription());
    assertEquals(Explanation.match(5f, "bm25"), outside.getDetails()[0]);
  }

  @Test
  void explainInAFetchPhaseOfItsOwnScoresAWindowHitAgain() throws IOException {
    // The fetch phase's context knows only which hits the query phase reranked.
    GrpcRerankRescorer.Context fetch = context(3, "mode", "combine", "query_weight", 0.5);
    fetch.setRescoredDocs(java.util.Set.of(0, 1, 2));

    Explanation reranked = GrpcRerankRescorer.INSTANCE.explain(1, searcher, fetch, Explanation.match(5f, "bm25"));
    Explanation outside = GrpcRerankRescorer.INSTANCE.explain(4, searcher, fetch, Explanation.match(2f, "bm25"));

    // b alone is passage 0 of its call: the fake scores it 0.1; 0.5 * 5 + 0.1
    assertEquals(2.6f, reranked.getValue().floatValue(), 1e-6);
    assertTrue(reranked.getDescription().contains("reranked score (combine), scored again for explain"),
        reranked.getDescription());
    assertEquals(List.of("title b"), server.received.get(0).getDocumentsList().stream().map(d -> d.getText()).toList());
    assertEquals(ShardBand.outside(2f), outside.getValue().floatValue());
  }

  @Test
  void explainThatCannotScoreAgainSaysWhy() throws IOException {
    GrpcRerankRescorer.Context fetch = context(3);
    fetch.setRescoredDocs(java.util.Set.of(0));
    server.failWith = Status.UNAVAILABLE.withDescription("down");

    Explanation explanation = GrpcRerankRescorer.INSTANCE.explain(0, searcher, fetch, Explanation.match(6f, "bm25"));

    assertTrue(explanation.getDescription().contains("explain could not score it again"), explanation.getDescription());
    assertTrue(warnings().isEmpty(), warnings().toString());
  }

  @Test
  void theRescoredDocsAreTheWindowsOnly() throws IOException {
    GrpcRerankRescorer.Context context = context(2);

    GrpcRerankRescorer.INSTANCE.rescore(searchHits(), searcher, context);

    assertTrue(context.isRescored(0) && context.isRescored(1));
    assertEquals(2, context.getRescoredDocs().size());
    assertNull(context.window.score(2));
  }
}
