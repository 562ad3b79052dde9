package io.github.rerankservice.plugin;

import static io.github.rerankservice.plugin.TestOptions.processor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The window's new scores and order; the same numbers as tests/unit/test_merge.py's. */
class HitScoresTest {
  private static final double EPSILON = 1e-12;

  @Test
  void replaceGivesTheRerankScores() {
    double[] rerank = {0.2, 0.9, 0.5};

    double[] scores = HitScores.windowScores(new double[] {3, 2, 1}, rerank, processor("mode", "replace"));

    assertArrayEquals(rerank, scores, 0);
    assertNotSame(rerank, scores);
  }

  /** original scores 2, 4; rerank 0.5, 0.25; query_weight 2, rerank_weight 4: weighted 4, 8 and 2, 1. */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "total,    6, 9",
      "multiply, 8, 8",
      "avg,      3, 4.5",
      "max,      4, 8",
      "min,      2, 1",
  })
  void combineJoinsTheWeightedScoresByScoreMode(String scoreMode, double first, double second) {
    RerankOptions options = processor("mode", "combine", "score_mode", scoreMode, "query_weight", 2, "rerank_weight", 4.0);

    double[] scores = HitScores.windowScores(new double[] {2, 4}, new double[] {0.5, 0.25}, options);

    assertArrayEquals(new double[] {first, second}, scores, EPSILON);
  }

  @Test
  void combineDefaultsToTotalWithWeightsOfOne() {
    double[] scores = HitScores.windowScores(new double[] {2, 4}, new double[] {0.5, 0.25}, processor("mode", "combine"));

    assertArrayEquals(new double[] {2.5, 4.25}, scores, EPSILON);
  }

  @Test
  void combineWithNormalizeScalesTheOriginalsToZeroOneFirst() {
    RerankOptions options = processor("mode", "combine", "normalize", true);

    double[] scores = HitScores.windowScores(new double[] {1, 5, 3}, new double[] {0.1, 0.1, 0.1}, options);

    assertArrayEquals(new double[] {0.1, 1.1, 0.6}, scores, EPSILON);
  }

  @Test
  void combineWithNormalizeScalesAllEqualOriginalsToOne() {
    RerankOptions options = processor("mode", "combine", "normalize", true, "score_mode", "multiply");

    double[] scores = HitScores.windowScores(new double[] {7, 7}, new double[] {0.3, 0.6}, options);

    assertArrayEquals(new double[] {0.3, 0.6}, scores, EPSILON);
  }

  @Test
  void combineWithoutNormalizeUsesTheRawOriginals() {
    RerankOptions options = processor("mode", "combine", "normalize", false, "query_weight", 0.5);

    double[] scores = HitScores.windowScores(new double[] {10, 20}, new double[] {1, 0}, options);

    assertArrayEquals(new double[] {6, 10}, scores, EPSILON);
  }

  @Test
  void rrfAddsTheReciprocalRanksOfBothOrders() {
    // search order 1, 2, 3; rerank order: hit 1 first, hit 2 second, hit 0 third
    double[] scores = HitScores.windowScores(new double[] {3, 2, 1}, new double[] {0.1, 0.9, 0.5}, processor("mode", "rrf"));

    assertArrayEquals(new double[] {1.0 / 61 + 1.0 / 63, 1.0 / 62 + 1.0 / 61, 1.0 / 63 + 1.0 / 62}, scores, EPSILON);
  }

  @Test
  void rrfUsesTheRankConstant() {
    double[] scores = HitScores.windowScores(new double[] {2, 1}, new double[] {0.1, 0.9},
        processor("mode", "rrf", "rank_constant", 1));

    assertArrayEquals(new double[] {1.0 / 2 + 1.0 / 3, 1.0 / 3 + 1.0 / 2}, scores, EPSILON);
  }

  @Test
  void rrfRanksTiedRerankScoresInSearchOrder() {
    double[] scores = HitScores.windowScores(new double[] {2, 1}, new double[] {0.5, 0.5}, processor("mode", "rrf"));

    assertArrayEquals(new double[] {1.0 / 61 + 1.0 / 61, 1.0 / 62 + 1.0 / 62}, scores, EPSILON);
  }

  @Test
  void windowScoresRefusesOneScorePerHitMismatch() {
    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> HitScores.windowScores(new double[] {1, 2, 3}, new double[] {0.5}, processor()));

    assertEquals("got 1 rerank scores for a window of 3 hits", error.getMessage());
  }

  @Test
  void emptyWindowGivesNoScores() {
    assertArrayEquals(new double[0], HitScores.windowScores(new double[0], new double[0], processor("mode", "rrf")), 0);
  }

  @Test
  void bestFirstOrdersByScoreDescending() {
    assertArrayEquals(new int[] {1, 3, 0, 2}, HitScores.bestFirst(new double[] {0.5, 0.9, -1, 0.7}));
  }

  @Test
  void bestFirstKeepsTheGivenOrderOnTies() {
    assertArrayEquals(new int[] {1, 4, 0, 2, 3}, HitScores.bestFirst(new double[] {0.5, 0.9, 0.5, 0.5, 0.9}));
  }

  @Test
  void bestFirstOfNothingIsEmpty() {
    assertArrayEquals(new int[0], HitScores.bestFirst(new double[0]));
  }

  @Test
  void belowWindowShiftIsZeroWhenTheRestIsAlreadyBelow() {
    assertEquals(0.0, HitScores.belowWindowShift(0.5, 0.4));
  }

  @Test
  void belowWindowShiftPutsTheBestOfTheRestOneGapBelowTheFloor() {
    double floor = 0.2;
    double bestBelow = 7.5;

    double shift = HitScores.belowWindowShift(floor, bestBelow);

    assertEquals(7.5 - 0.2 + HitScores.OUTSIDE_WINDOW_GAP, shift, EPSILON);
    assertEquals(floor - HitScores.OUTSIDE_WINDOW_GAP, bestBelow - shift, EPSILON);
  }

  @Test
  void belowWindowShiftMovesATieWithTheFloorOneGapDown() {
    assertEquals(HitScores.OUTSIDE_WINDOW_GAP, HitScores.belowWindowShift(0.5, 0.5), EPSILON);
  }

  @Test
  void belowWindowShiftIsZeroWithoutHitsBelow() {
    assertEquals(0.0, HitScores.belowWindowShift(0.5, Double.NEGATIVE_INFINITY));
  }
}
