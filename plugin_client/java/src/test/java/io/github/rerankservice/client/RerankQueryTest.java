package io.github.rerankservice.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RerankQueryTest {
  @Test
  void bareTextsGetTheirPositionAsId() {
    RerankQuery query = RerankQuery.builder("q").document("x", "a").documents(List.of("b", "c")).build();

    assertEquals(
        List.of(new Document("x", "a"), new Document("1", "b"), new Document("2", "c")),
        query.documents());
  }

  @Test
  void defaultsLeaveEveryChoiceToTheServer() {
    RerankQuery query = RerankQuery.of("q", List.of("d"));

    assertEquals(new RerankQuery("q", List.of(new Document("0", "d")), 0, false, false, 0, "", ""), query);
  }

  @Test
  void negativeTopNIsRejectedWithTheReason() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class, () -> RerankQuery.builder("q").topN(-1).build());

    assertTrue(error.getMessage().contains("topN must be >= 0"), error.getMessage());
  }

  @Test
  void documentsAreCopied() {
    List<String> texts = new java.util.ArrayList<>(List.of("a"));
    RerankQuery query = RerankQuery.of("q", texts);
    texts.add("b");

    assertEquals(1, query.documents().size());
  }
}
