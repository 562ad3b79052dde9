package io.github.rerankservice.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The two score bands of the rescorer, which make the shards' windows compare after the merge. */
class ShardBandTest {
  private static final float[] SEARCH_SCORES = {
      -1e6f, -1000f, -10f, -1f, -0.5f, -1e-3f, 0f, 1e-3f, 0.1f, 0.5f, 1f, 2f, 7.25f, 10f, 42f, 100f, 1000f, 1e4f, 1e5f, 1e6f,
  };

  @Test
  void outsideIsStrictlyIncreasing() {
    for (int i = 1; i < SEARCH_SCORES.length; i++) {
      assertTrue(ShardBand.outside(SEARCH_SCORES[i - 1]) < ShardBand.outside(SEARCH_SCORES[i]),
          SEARCH_SCORES[i - 1] + " -> " + ShardBand.outside(SEARCH_SCORES[i - 1]) + " is not below "
              + SEARCH_SCORES[i] + " -> " + ShardBand.outside(SEARCH_SCORES[i]));
    }
  }

  @Test
  void outsideStaysBetweenMinusTwoAndZero() {
    for (float score : SEARCH_SCORES) {
      float outside = ShardBand.outside(score);
      assertTrue(outside > -2 && outside < 0, score + " -> " + outside);
    }
  }

  @Test
  void outsideOfZeroIsMinusOne() {
    assertEquals(-1f, ShardBand.outside(0f));
  }

  /** Scores from a function_score or script_score can be this large; the band must still hold. */
  @ParameterizedTest
  @ValueSource(floats = {1e16f, 1e20f, Float.MAX_VALUE})
  void outsideOfAHugeScoreStaysBelowZero(float score) {
    float outside = ShardBand.outside(score);

    assertTrue(outside < 0 && outside > -2, score + " -> " + outside);
  }

  @Test
  void rerankedKeepsScoresAtOrAboveZero() {
    assertEquals(0f, ShardBand.reranked(0));
    assertEquals(0.75f, ShardBand.reranked(0.75));
    assertEquals(12.5f, ShardBand.reranked(12.5));
  }

  @Test
  void rerankedRaisesNegativeScoresToZero() {
    assertEquals(0f, ShardBand.reranked(-0.3));
  }

  @Test
  void everyRerankedScoreIsAboveEveryOutsideScore() {
    for (double rerank : new double[] {-5, 0, 1e-9, 0.5, 1, 100}) {
      for (float score : SEARCH_SCORES) {
        assertTrue(ShardBand.reranked(rerank) > ShardBand.outside(score), rerank + " vs " + score);
      }
    }
  }

  /** One hit of one shard after its rescore. */
  private record Hit(int shard, float searchScore, boolean reranked, double rerankScore, float bandScore) {}

  /**
   * Two shards with arbitrary windows: the coordinator's sort of the union by score puts every
   * window hit first (in rerank order), then every other hit in its search order.
   */
  @Test
  void mergingShardsByScorePutsEveryWindowFirst() {
    Random random = new Random(20240611);
    for (int round = 0; round < 500; round++) {
      List<Hit> union = new ArrayList<>();
      for (int shard = 0; shard < 2; shard++) {
        int hits = random.nextInt(30);
        int window = hits == 0 ? 0 : random.nextInt(hits + 1);
        float[] scores = new float[hits];
        for (int i = 0; i < hits; i++) {
          scores[i] = random.nextFloat() * (random.nextBoolean() ? 30 : 3000);
        }
        java.util.Arrays.sort(scores);
        for (int i = 0; i < hits; i++) {
          float score = scores[hits - 1 - i]; // best first, as the shard's top docs come
          if (i < window) {
            double rerank = random.nextDouble();
            union.add(new Hit(shard, score, true, rerank, ShardBand.reranked(rerank)));
          } else {
            union.add(new Hit(shard, score, false, Double.NaN, ShardBand.outside(score)));
          }
        }
      }
      union.sort(Comparator.comparingDouble((Hit hit) -> -hit.bandScore()));

      long windowHits = union.stream().filter(Hit::reranked).count();
      for (int i = 0; i < union.size(); i++) {
        assertEquals(i < windowHits, union.get(i).reranked(), "round " + round + ", position " + i + ": " + union);
      }
      for (int i = 1; i < union.size(); i++) {
        Hit above = union.get(i - 1);
        Hit below = union.get(i);
        if (above.reranked() && below.reranked()) {
          assertTrue((float) above.rerankScore() >= (float) below.rerankScore(), "round " + round + ": " + union);
        } else if (!above.reranked() && !below.reranked()) {
          assertTrue(above.searchScore() >= below.searchScore(), "round " + round + ": " + union);
        }
      }
    }
  }
}
