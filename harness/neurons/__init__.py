"""neurons"""
