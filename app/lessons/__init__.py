"""Lessons as data: lessons/NN-slug/{lesson.toml, ko.md, en.md} and lessons/glossary.toml, loaded and
validated once (again when a file changes). See docs/design-lessons.md, section 5."""

from app.lessons.loader import LESSONS_DIR, Lesson, LessonBook, lesson_book, load_lesson, load_lessons

__all__ = ["LESSONS_DIR", "Lesson", "LessonBook", "lesson_book", "load_lesson", "load_lessons"]
