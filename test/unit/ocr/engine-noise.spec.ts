import assert from 'node:assert/strict';
import { isRecogniserStartNoise, withoutRecogniserStartNoise } from '../../../ocr/engine';

describe('ocr: what a recogniser prints when it starts', () => {
  it('recognises the three lines of the missing chi_sim_vert sub-language, whatever its garbled name', () => {
    assert.equal(isRecogniserStartNoise('Error opening data file ./玂臎.traineddata'), true);
    assert.equal(isRecogniserStartNoise('Please make sure the TESSDATA_PREFIX environment variable is set to your "tessdata" directory.'), true);
    assert.equal(isRecogniserStartNoise("Failed loading language '玂臎'"), true);
    assert.equal(isRecogniserStartNoise("Failed loading language 'chi_sim_vert'"), true);
  });

  it('keeps a failure of a language we read with, and every other line', () => {
    assert.equal(isRecogniserStartNoise("Failed loading language 'chi_sim'"), false);
    assert.equal(isRecogniserStartNoise('Error opening data file ./eng.traineddata'), false);
    assert.equal(isRecogniserStartNoise('Error opening data file ./chi_sim.traineddata'), false);
    assert.equal(isRecogniserStartNoise('{"level":"error","msg":"Failed loading language"}'), false);
    assert.equal(isRecogniserStartNoise(''), false);
  });

  it('drops those lines from a chunk of output and keeps the rest, line ends included', () => {
    const chunk = "Error opening data file ./玂臎.traineddata\nreal warning\nFailed loading language '玂臎'\n";
    assert.equal(withoutRecogniserStartNoise(chunk), 'real warning\n');
    assert.equal(withoutRecogniserStartNoise("Failed loading language '玂臎'\n"), '');
    assert.equal(withoutRecogniserStartNoise('no newline at the end'), 'no newline at the end');
  });
});
