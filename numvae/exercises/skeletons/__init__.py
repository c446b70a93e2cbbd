"""The files ``python -m numvae exercises init DIR`` hands out, one per exercise.

They are Python modules so that they ship with the package and stay lint-clean, but
nothing imports them: ``numvae.exercises.handout`` copies their text into the student's
folder. Their bodies raise NotImplementedError naming the exercise.
"""
