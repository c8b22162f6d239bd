"""Hashers: cryptographic digests for every file, perceptual hashes for images (PDQ), video (vPDQ),
documents (TLSH) and audio (Chromaprint), and OCR text of images."""
