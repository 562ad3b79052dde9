package io.github.rerankservice.opensearch;

import io.github.rerankservice.plugin.FakeRerankServer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.opensearch.GrpcRerankRequestProcessor.Page;
import io.github.rerankservice.plugin.Reranker;
import io.grpc.Status;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.search.TotalHits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.opensearch.OpenSearchStatusException;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.action.search.SearchResponse;
import org.opensearch.action.search.SearchResponseSections;
import org.opensearch.action.search.ShardSearchFailure;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.util.concurrent.ThreadContext;
import org.opensearch.core.common.bytes.BytesArray;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.index.query.QueryBuilders;
import org.opensearch.search.SearchHit;
import org.opensearch.search.SearchHits;
import org.opensearch.search.builder.SearchSourceBuilder;
import org.opensearch.search.pipeline.PipelineProcessingContext;
import org.opensearch.search.pipeline.SearchResponseProcessor;

/** The pipeline's response step on a merged response of hits a..f scored 6..1. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GrpcRerankResponseProcessorTest {
  private static final String NOT_CONFIGURED = "grpc_rerank: no reranker configured; set rerank.grpc.target";

  private FakeRerankServer server;
  private Reranker reranker;
  private final PipelineProcessingContext context = new PipelineProcessingContext();

  @BeforeEach
  void start() throws IOException {
    server = new FakeRerankServer();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (reranker != null) {
      reranker.close();
    }
    server.close();
  }

  private SearchResponseProcessor processor(Object... keyValues) {
    Map<String, Object> config = new HashMap<>();
    config.put("document_fields", List.of("title"));
    for (int i = 0; i < keyValues.length; i += 2) {
      config.put((String) keyValues[i], keyValues[i + 1]);
    }
    return new GrpcRerankResponseProcessor.Factory(() -> reranker, new ThreadContext(Settings.EMPTY), Runnable::run)
        .create(Map.of(), "tag", null, false, config, null);
  }

  private static SearchResponse response() {
    SearchHit[] hits = new SearchHit[6];
    for (int i = 0; i < hits.length; i++) {
      String id = String.valueOf((char) ('a' + i));
      hits[i] = new SearchHit(i, id, Map.of(), Map.of());
      hits[i].sourceRef(new BytesArray("{\"title\": \"title " + id + "\"}"));
      hits[i].score(6 - i);
    }
    SearchHits searchHits = new SearchHits(hits, new TotalHits(hits.length, TotalHits.Relation.EQUAL_TO), 6);
    return new SearchResponse(new SearchResponseSections(searchHits, null, null, false, null, null, 1), null, 1, 1, 0, 7,
        ShardSearchFailure.EMPTY_ARRAY, SearchResponse.Clusters.EMPTY);
  }

  private static SearchRequest search(String queryText) {
    SearchSourceBuilder source = new SearchSourceBuilder().query(QueryBuilders.matchQuery("title", "match text"));
    if (queryText != null) {
      source.ext(List.of(new GrpcRerankSearchExt(Map.of("query_text", queryText))));
    }
    return new SearchRequest("articles").source(source);
  }

  private static List<String> ids(SearchResponse response) {
    return Arrays.stream(response.getHits().getHits()).map(SearchHit::getId).toList();
  }

  private static float[] scores(SearchResponse response) {
    SearchHit[] hits = response.getHits().getHits();
    float[] scores = new float[hits.length];
    for (int i = 0; i < hits.length; i++) {
      scores[i] = hits[i].getScore();
    }
    return scores;
  }

  private static Map<String, Object> marker(SearchResponse response) {
    return response.getInternalResponse().getSearchExtBuilders().stream()
        .filter(GrpcRerankSearchExt.class::isInstance)
        .map(ext -> ((GrpcRerankSearchExt) ext).content())
        .findFirst()
        .orElseThrow();
  }

  @Test
  void replaceRanksTheWindowByTheRerankScoresAndTheRestBelow() throws Exception {
    reranker = TestRerankers.reranker(server.target(), true, 100);

    SearchResponse out = processor("window_size", 4).processResponse(search("q"), response(), context);

    assertEquals(List.of("d", "c", "b", "a", "e", "f"), ids(out));
    // the window's rerank scores; e and f shifted so that e lands 0.001 below the window's floor (0.1)
    assertArrayEquals(new float[] {0.4f, 0.3f, 0.2f, 0.1f, 0.099f, -0.901f}, scores(out), 1e-6f);
    assertEquals("reranked", marker(out).get("status"));
    assertEquals(4, marker(out).get("window_size"));
  }

  @Test
  void sendsTheQueryTextAndTheWindowsPassages() throws Exception {
    reranker = TestRerankers.reranker(server.target(), true, 100);

    processor("window_size", 3).processResponse(search("판다는 곰이다"), response(), context);

    assertEquals("판다는 곰이다", server.received.get(0).getQuery());
    assertEquals(List.of("title a", "title b", "title c"),
        server.received.get(0).getDocumentsList().stream().map(document -> document.getText()).toList());
  }

  @Test
  void responseIsCutToTheCallersPage() throws Exception {
    reranker = TestRerankers.reranker(server.target(), true, 100);
    context.setAttribute(GrpcRerankRequestProcessor.PAGE, new Page(1, 3));

    SearchResponse out = processor("window_size", 4).processResponse(search("q"), response(), context);

    assertEquals(List.of("c", "b", "a"), ids(out));
    assertEquals(0.3f, out.getHits().getMaxScore(), 1e-6f);
  }

  @Test
  void windowComesFromTheRequestStepWhenTheResponseStepNamesNone() throws Exception {
    reranker = TestRerankers.reranker(server.target(), true, 100);
    context.setAttribute(GrpcRerankRequestProcessor.WINDOW, 2);

    SearchResponse out = processor().processResponse(search("q"), response(), context);

    assertEquals(List.of("b", "a", "c", "d", "e", "f"), ids(out));
    assertEquals(2, server.received.get(0).getDocumentsCount());
  }

  @Test
  void queryTextComesFromTheQueryAtQueryTextPath() throws Exception {
    reranker = TestRerankers.reranker(server.target(), true, 100);

    processor("query_text_path", "match.title.query").processResponse(search(null), response(), context);

    assertEquals("match text", server.received.get(0).getQuery());
  }

  @Test
  void searchWithoutQueryTextPassesMarkedSkipped() throws Exception {
    reranker = TestRerankers.reranker(server.target(), true, 100);
    context.setAttribute(GrpcRerankRequestProcessor.PAGE, new Page(2, 2));

    SearchResponse out = processor().processResponse(search(null), response(), context);

    assertEquals(List.of("c", "d"), ids(out));
    assertEquals("skipped", marker(out).get("status"));
    assertTrue(((String) marker(out).get("reason")).startsWith("no query text"), marker(out).toString());
    assertTrue(server.received.isEmpty());
  }

  @Test
  void refusalFailsOpenWithTheSearchOrderAndAMarker() throws Exception {
    server.failWith = Status.INVALID_ARGUMENT.withDescription("too many documents");
    reranker = TestRerankers.reranker(server.target(), true, 100);

    SearchResponse out = processor("window_size", 4).processResponse(search("q"), response(), context);

    assertEquals(List.of("a", "b", "c", "d", "e", "f"), ids(out));
    assertArrayEquals(new float[] {6, 5, 4, 3, 2, 1}, scores(out));
    assertEquals("failed_open", marker(out).get("status"));
    assertTrue(((String) marker(out).get("reason")).endsWith("answered INVALID_ARGUMENT: too many documents"),
        marker(out).toString());
    assertEquals(1L, reranker.stats().snapshot().get("failed_open"));
  }

  @Test
  void refusalFailsClosedWhenAskedWithABadRequest() {
    server.failWith = Status.INVALID_ARGUMENT.withDescription("too many documents");
    reranker = TestRerankers.reranker(server.target(), true, 100);

    OpenSearchStatusException error = assertThrows(OpenSearchStatusException.class,
        () -> processor("fail_open", false).processResponse(search("q"), response(), context));

    assertEquals(RestStatus.BAD_REQUEST, error.status());
    assertTrue(error.getMessage().contains("[" + server.target() + "]"), error.getMessage());
  }

  @Test
  void timeoutFailsClosedWithGatewayTimeout() {
    server.hang = true;
    reranker = TestRerankers.reranker(server.target(), false, 100);

    OpenSearchStatusException error = assertThrows(OpenSearchStatusException.class,
        () -> processor("timeout", "200ms").processResponse(search("q"), response(), context));

    assertEquals(RestStatus.GATEWAY_TIMEOUT, error.status());
  }

  @Test
  void notConfiguredFailsOpenWithTheSearchOrder() throws Exception {
    reranker = TestRerankers.unconfigured(100);

    SearchResponse out = processor().processResponse(search("q"), response(), context);

    assertEquals(List.of("a", "b", "c", "d", "e", "f"), ids(out));
    assertEquals("failed_open", marker(out).get("status"));
  }

  @Test
  void notConfiguredFailOpenMarkerGivesTheFailuresOwnMessage() throws Exception {
    reranker = TestRerankers.unconfigured(100);

    SearchResponse out = processor().processResponse(search("q"), response(), context);

    assertEquals(NOT_CONFIGURED, marker(out).get("reason"));
  }

  @Test
  void notConfiguredFailsClosedAsServiceUnavailable() {
    reranker = TestRerankers.unconfigured(100);

    OpenSearchStatusException error = assertThrows(OpenSearchStatusException.class,
        () -> processor("fail_open", false).processResponse(search("q"), response(), context));

    assertEquals(RestStatus.SERVICE_UNAVAILABLE, error.status());
    assertEquals(NOT_CONFIGURED, error.getMessage());
  }

  @Test
  void factoryRefusesAWindowLargerThanTheNodeAllows() {
    reranker = TestRerankers.unconfigured(100);

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> processor("window_size", 101));

    assertEquals("[grpc_rerank] window_size is 101 but this node allows at most 100 (rerank.max_window_size)",
        error.getMessage());
  }

  @Test
  void factoryRefusesUnknownOptions() {
    reranker = TestRerankers.unconfigured(100);

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> processor("query_text", "q"));

    assertTrue(error.getMessage().startsWith("[grpc_rerank] unknown option(s) [query_text]"), error.getMessage());
  }
}
