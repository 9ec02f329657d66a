"""Trains a keyword spotter on raw 16 kHz waveforms and writes the run to --model_dir.

    python -m zoo_apps.audio_classify                   # ds_cnn on speech_words (synthesized at first use)
    python -m zoo_apps.audio_classify --model=kws_cnn --export=float32,int8
    python -m zoo_apps.audio_classify --dataset=folder:speech_commands/ --pretrained=runs/ds_cnn_speech_words

speech_words needs eSpeak NG: pip install espeakng-loader==0.2.4 (zoo's audio extra).
"""

from zoo_apps.core import run_app


def main(argv=None):
    return run_app("audio_classification", lambda flag_values: None, lambda flag_values: {}, argv, doc=__doc__)


if __name__ == "__main__":
    main()
