package io.github.rerankservice.opensearch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.rerankservice.opensearch.GrpcRerankRequestProcessor.Page;
import io.github.rerankservice.plugin.Reranker;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.opensearch.action.search.SearchRequest;
import org.opensearch.common.unit.TimeValue;
import org.opensearch.search.builder.SearchSourceBuilder;
import org.opensearch.search.pipeline.PipelineProcessingContext;

class GrpcRerankRequestProcessorTest {
  private final Reranker reranker = TestRerankers.unconfigured(200);
  private final GrpcRerankRequestProcessor.Factory factory = new GrpcRerankRequestProcessor.Factory(() -> reranker);
  private final PipelineProcessingContext context = new PipelineProcessingContext();

  @AfterEach
  void close() {
    reranker.close();
  }

  private static GrpcRerankRequestProcessor processor(int windowSize) {
    return new GrpcRerankRequestProcessor("tag", "description", false, windowSize);
  }

  private static SearchRequest search(int from, int size) {
    return new SearchRequest("articles").source(new SearchSourceBuilder().from(from).size(size));
  }

  private GrpcRerankRequestProcessor create(Map<String, Object> config) {
    return (GrpcRerankRequestProcessor) factory.create(Map.of(), "tag", null, false, new HashMap<>(config), null);
  }

  @ParameterizedTest(name = "from {0} size {1} window {2} -> size {3}")
  @CsvSource({
      "0,  10, 50, 50",
      "20, 10, 50, 50",
      "45, 10, 50, 55",
      "0,  80, 50, 80",
      "3,  4,  5,  7",
  })
  void fetchesTheWindowOrThePageFromZero(int from, int size, int window, int fetched) {
    SearchRequest request = processor(window).processRequest(search(from, size), context);

    assertEquals(0, request.source().from());
    assertEquals(fetched, request.source().size());
  }

  @Test
  void keepsTheCallersPageAndWindowInTheContext() {
    processor(50).processRequest(search(20, 10), context);

    assertEquals(new Page(20, 10), context.getAttribute(GrpcRerankRequestProcessor.PAGE));
    assertEquals(50, context.getAttribute(GrpcRerankRequestProcessor.WINDOW));
  }

  @Test
  void searchWithoutFromAndSizeIsTheFirstTenHits() {
    SearchRequest request = processor(50).processRequest(new SearchRequest("articles").source(new SearchSourceBuilder()),
        context);

    assertEquals(new Page(0, 10), context.getAttribute(GrpcRerankRequestProcessor.PAGE));
    assertEquals(0, request.source().from());
    assertEquals(50, request.source().size());
  }

  @Test
  void searchWithoutABodyGetsOne() {
    SearchRequest request = processor(30).processRequest(new SearchRequest("articles"), context);

    assertEquals(new Page(0, 10), context.getAttribute(GrpcRerankRequestProcessor.PAGE));
    assertEquals(30, request.source().size());
  }

  @Test
  void scrollPassesUnchanged() {
    SearchRequest request = search(0, 10).scroll(TimeValue.timeValueMinutes(1));

    assertSame(request, processor(50).processRequest(request, context));
    assertEquals(10, request.source().size());
    assertNull(context.getAttribute(GrpcRerankRequestProcessor.PAGE));
  }

  @Test
  void searchAfterPassesUnchanged() {
    SearchRequest request = search(0, 10);
    request.source().searchAfter(new Object[] {1.5f, "doc-7"});

    processor(50).processRequest(request, context);

    assertEquals(10, request.source().size());
    assertNull(context.getAttribute(GrpcRerankRequestProcessor.PAGE));
  }

  @Test
  void sizeZeroPassesUnchanged() {
    SearchRequest request = search(5, 0);

    processor(50).processRequest(request, context);

    assertEquals(5, request.source().from());
    assertEquals(0, request.source().size());
    assertNull(context.getAttribute(GrpcRerankRequestProcessor.PAGE));
  }

  @Test
  void factoryDefaultsTheWindowTo50() {
    assertEquals(GrpcRerankRequestProcessor.DEFAULT_WINDOW_SIZE, create(Map.of()).windowSize());
    assertEquals(50, GrpcRerankRequestProcessor.DEFAULT_WINDOW_SIZE);
  }

  @Test
  void factoryReadsTheWindowAndConsumesTheConfig() {
    Map<String, Object> config = new HashMap<>(Map.of("window_size", 120));

    GrpcRerankRequestProcessor processor =
        (GrpcRerankRequestProcessor) factory.create(Map.of(), "tag", "d", true, config, null);

    assertEquals(120, processor.windowSize());
    assertTrue(config.isEmpty());
    assertEquals("grpc_rerank", processor.getType());
    assertEquals("tag", processor.getTag());
    assertEquals("d", processor.getDescription());
    assertTrue(processor.isIgnoreFailure());
  }

  @Test
  void factoryRefusesUnknownKeys() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> create(Map.of("window_size", 10, "mode", "rrf", "document_fields", "title")));

    assertEquals("[grpc_rerank] request step: unknown option(s) [document_fields, mode]; it takes only window_size "
        + "(the other options go on the grpc_rerank response step)", error.getMessage());
  }

  @Test
  void factoryRefusesABadWindowSize() {
    for (Object value : new Object[] {0, -5, "50", 2.5, true}) {
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> create(Map.of("window_size", value)));

      assertEquals("[grpc_rerank] window_size must be a positive integer, got [" + value + "]", error.getMessage());
    }
  }

  @Test
  void factoryRefusesAWindowLargerThanTheNodeAllows() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> create(Map.of("window_size", 201)));

    assertEquals("[grpc_rerank] window_size is 201 but this node allows at most 200 (rerank.max_window_size)",
        error.getMessage());
  }
}
