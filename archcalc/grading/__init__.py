"""Homework checking: an instructor's answer key, students' answers, graded with worked formulas."""
